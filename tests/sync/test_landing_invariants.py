"""What the landing relies on: bridge and history rows only ever belong to ids the stream's
main table holds (``upsert`` skips the bridge deletes and history lookups of a batch of
ids the table does not hold, which is right only while this stays true)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest

from outreach_emulator import Emulator
from outreach_pipeline.catalog import catalog, stream
from outreach_pipeline.landing.schema import SCHEMA, bridges, quote, table_name
from outreach_pipeline.sync import SyncOptions

# Small batches, so that batches of only new ids and of mixed ids both occur.
OPTIONS = SyncOptions(sweep_interval=None, batch_rows=40)


@pytest.fixture
def admin(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url + "/_emulator", timeout=10) as client:
        yield client


def _dependents(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, str, str]]:
    """``(table, its id column, the stream's main table)`` of each bridge and history table
    in the landing."""
    present = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [SCHEMA]
        ).fetchall()
    }
    for each in catalog().values():
        linked = [(b.table, b.parent_column) for b in bridges(each)]
        linked.append((each.table + "__history", "id"))
        for table, column in linked:
            if table in present:
                yield table, column, table_name(each)


def assert_no_orphans(db_path: Path) -> dict[str, int]:
    """No bridge parent id and no history id is missing from its stream's main table; and
    the check is not vacuous: bridges and history hold rows. Returns the rows of each."""
    orphans: dict[str, list[int]] = {}
    rows: dict[str, int] = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        for table, column, main in _dependents(con):
            qualified, id_column = f"{SCHEMA}.{quote(table)}", quote(column)
            missing = con.execute(
                f"SELECT DISTINCT {id_column} FROM {qualified} "
                f"WHERE {id_column} NOT IN (SELECT id FROM {main}) ORDER BY 1 LIMIT 10"
            ).fetchall()
            if missing:
                orphans[table] = [m for (m,) in missing]
            count = con.execute(f"SELECT count(*) FROM {qualified}").fetchone()
            rows[table] = count[0] if count else 0
    assert not orphans, f"ids not in their stream's main table: {orphans}"
    assert rows["prospects__email_addresses"] > 0
    assert all(rows[f"{stream(p).table}__history"] > 0 for p in OPTIONS.history_streams)
    return rows


def _first_ids(admin: httpx.Client, path: str, count: int) -> list[int]:
    ids = admin.get(f"/records/{path}", params={"ids_only": "true"}).json()["ids"]
    return sorted(ids)[:count]


def test_bridges_and_history_only_hold_ids_of_the_main_table(
    emulator: Emulator, admin: httpx.Client, sync, db_path: Path
) -> None:
    assert all(r.ok for r in sync(emulator, options=OPTIONS))
    assert_no_orphans(db_path)

    emails = _first_ids(admin, "emailAddresses", 4)
    users = _first_ids(admin, "users", 3)
    prospects = _first_ids(admin, "prospects", 10)
    accounts = _first_ids(admin, "accounts", 5)
    emulator.clock.advance(3600)
    changes = [
        admin.patch(
            f"/records/prospects/{prospects[0]}",
            json={
                "attributes": {"firstName": "Changed"},
                "relationships": {"emailAddresses": emails[:2], "opportunities": []},
            },
        ),
        admin.patch(
            f"/records/accounts/{accounts[0]}",
            json={"attributes": {"name": "Renamed"}, "relationships": {"assignedUsers": users}},
        ),
        # Found only by the sweep's fingerprints.
        admin.patch(
            f"/records/accounts/{accounts[1]}",
            json={"relationships": {"assignedUsers": users[:1]}, "silent": True},
        ),
        *(
            admin.post(
                "/records/prospects",
                json={
                    "attributes": {"firstName": f"New{n}"},
                    "relationships": {"emailAddresses": emails[2:], "assignedUsers": users},
                },
            )
            for n in range(3)
        ),
        admin.post(
            "/records/accounts",
            json={"attributes": {"name": "New Co"}, "relationships": {"assignedUsers": users}},
        ),
        admin.delete(f"/records/prospects/{prospects[1]}"),
        admin.delete(f"/records/accounts/{accounts[2]}"),
        # Drops out of the to-many lists naming it, those records unchanged.
        admin.delete(f"/records/emailAddresses/{emails[0]}"),
    ]
    assert all(c.is_success for c in changes), [c.text for c in changes if not c.is_success]

    assert all(r.ok for r in sync(emulator, options=OPTIONS))
    assert assert_no_orphans(db_path)["accounts__assigned_users"] > 0

    swept = {r.stream: r for r in sync(emulator, options=OPTIONS, sweep_deletes=True)}
    assert all(r.ok for r in swept.values())
    assert swept["prospects"].records_deleted == 1 and swept["accounts"].records_deleted == 1
    assert swept["accounts"].records_refetched >= 1
    assert_no_orphans(db_path)

    assert all(r.ok for r in sync(emulator, options=OPTIONS, full_refresh=True))
    assert_no_orphans(db_path)
