"""Every grant's landing read as one (landing/grant_union.py, ``open_grants_for_reading``) on
real DuckDB files: each view is the union of the grants' rows with the right ``grant``, a
table only some grants have, schemas that drifted apart, and a session that can read the
grants' files but attach, write or reconfigure nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from outreach_pipeline.landing import GrantLanding, open_grants_for_reading
from outreach_pipeline.landing.read_snapshot import snapshot_path

LANDING_ONLY = {"enable_external_access": "false", "lock_configuration": "true"}


def _landing(path: Path, prospects: list[tuple[Any, ...]], extra_column: bool = False) -> Path:
    """A landing like the sync's: ``outreach.prospects`` (with a ``title`` column when
    ``extra_column``), its current-rows view, and ``sync_runs``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    title = ", title VARCHAR" if extra_column else ""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA outreach")
        con.execute(
            "CREATE TABLE outreach.prospects "
            f"(id BIGINT PRIMARY KEY, first_name VARCHAR{title}, _deleted_at TIMESTAMP)"
        )
        for row in prospects:
            con.execute(f"INSERT INTO outreach.prospects VALUES ({', '.join('?' * len(row))})", row)
        con.execute(
            "CREATE VIEW main.prospects AS SELECT * EXCLUDE (_deleted_at) "
            "FROM outreach.prospects WHERE _deleted_at IS NULL"
        )
        con.execute("CREATE TABLE outreach.sync_runs (run_id VARCHAR, stream VARCHAR)")
        con.execute("INSERT INTO outreach.sync_runs VALUES (?, 'prospects')", [path.stem])
    return path


@pytest.fixture
def grants(tmp_path: Path) -> list[GrantLanding]:
    """Three grants: ``default`` and ``acme`` with prospects (acme's with a column more and a
    deleted row), ``main`` (a name DuckDB keeps for itself) with calls only."""
    default = _landing(tmp_path / "landing.duckdb", [(1, "Ada", None), (2, "Bo", None)])
    acme = _landing(
        tmp_path / "grants" / "acme" / "landing.duckdb",
        [(1, "Cy", "CEO", None), (7, "Di", None, "2025-01-01 00:00:00")],
        extra_column=True,
    )
    main = tmp_path / "grants" / "main" / "landing.duckdb"
    main.parent.mkdir(parents=True)
    with duckdb.connect(str(main)) as con:
        con.execute("CREATE SCHEMA outreach")
        con.execute("CREATE TABLE outreach.calls AS SELECT 5::BIGINT AS id, 'hi' AS note")
    return [
        GrantLanding("default", default),
        GrantLanding("acme", acme),
        GrantLanding("main", main),
    ]


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple[Any, ...]]:
    return con.execute(query).fetchall()


def test_each_view_is_every_grants_rows_with_its_grant(grants: list[GrantLanding]) -> None:
    con = open_grants_for_reading(grants, config=LANDING_ONLY)
    try:
        assert [d[0] for d in con.execute("SELECT * FROM outreach.prospects").description] == [
            "grant",
            "id",
            "first_name",
            "_deleted_at",
            "title",
        ]
        raw = _rows(con, "SELECT * FROM outreach.prospects ORDER BY ALL")
        current = _rows(con, "SELECT * FROM prospects ORDER BY ALL")
        runs = _rows(con, 'SELECT "grant", run_id FROM outreach.sync_runs ORDER BY ALL')
        calls = _rows(con, "SELECT * FROM outreach.calls")
    finally:
        con.close()

    for landing in grants[:2]:
        with duckdb.connect(str(landing.db_path), read_only=True) as own:
            own_raw = own.execute(
                "SELECT id, first_name, _deleted_at FROM outreach.prospects ORDER BY ALL"
            ).fetchall()
            own_current = own.execute("SELECT id, first_name FROM prospects ORDER BY ALL")
            own_current_rows = own_current.fetchall()
        assert [(r[1], r[2], r[3]) for r in raw if r[0] == landing.grant] == own_raw
        assert [(r[1], r[2]) for r in current if r[0] == landing.grant] == own_current_rows
    # acme's extra column reads NULL for the default grant; its deleted row is no current row
    assert ("acme", 1, "Cy", None, "CEO") in raw
    assert ("default", 1, "Ada", None, None) in raw
    assert ("acme", 1, "Cy", "CEO") in current and all(r[1] != 7 for r in current)
    assert runs == [("acme", "landing"), ("default", "landing")]
    # a table only one grant has holds that grant's rows alone
    assert calls == [("main", 5, "hi")]


def test_the_session_reads_the_grants_and_nothing_else(
    grants: list[GrantLanding], tmp_path: Path
) -> None:
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE secrets AS SELECT 'token' AS token")
    (tmp_path / "grant.json").write_text('{"access_token": "token"}')
    acme_snapshot = snapshot_path(grants[1].db_path)
    con = open_grants_for_reading(grants, config=LANDING_ONLY)
    try:
        refused = {
            "attach another file": f"ATTACH '{other}' AS other",
            "read a file": f"SELECT * FROM read_text('{tmp_path}/grant.json')",
            "write a file": f"COPY (SELECT 1) TO '{tmp_path}/out.csv'",
            "switch access back on": "SET enable_external_access = true",
            "write a grant": "INSERT INTO grant_acme.outreach.prospects (id) VALUES (99)",
            "write the views' database": "CREATE TABLE made AS SELECT 1",
        }
        for what, statement in refused.items():
            with pytest.raises(duckdb.Error):
                con.execute(statement)
                pytest.fail(f"could {what}")
        # a grant's file cannot be attached a second time, for writing
        with pytest.raises(duckdb.Error, match="already attached"):
            con.execute(f"ATTACH '{acme_snapshot.parent}/./{acme_snapshot.name}' AS w (READ_WRITE)")
    finally:
        con.close()
    assert not (tmp_path / "out.csv").exists()
    with duckdb.connect(str(acme_snapshot), read_only=True) as check:
        assert check.execute("SELECT count(*) FROM outreach.prospects").fetchone() == (2,)


def test_the_grants_files_are_their_read_snapshots(grants: list[GrantLanding]) -> None:
    """Read as a single landing is: the snapshot (published on first read), never the file a
    sync writes."""
    con = open_grants_for_reading(grants)
    try:
        files = dict(
            con.execute(
                "SELECT database_name, path FROM duckdb_databases() "
                "WHERE database_name LIKE 'grant\\_%' ESCAPE '\\'"
            ).fetchall()
        )
    finally:
        con.close()
    assert files == {
        f"grant_{landing.grant}": str(snapshot_path(landing.db_path)) for landing in grants
    }
