"""``outreach-pipeline sql`` reaches the landing and nothing else: a query cannot read the token
store (or any file), write a file, attach another database, install or load an extension, or
switch external access back on. Each is refused with DuckDB's message, and nothing is printed
or written; ordinary queries still work, views included, and so does replaying a write-ahead log
left by a writer that died.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from outreach_emulator import Emulator, EmulatorConfig, bearer_auth
from outreach_pipeline import cli
from outreach_pipeline.catalog import select
from outreach_pipeline.sync import run_sync
from tests.sync.support import settings_for

TOKEN = "access-token-in-the-store-6e1d0b"


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder with a synced landing (users), a token store and other files beside it."""
    folder = tmp_path_factory.mktemp("sql")
    emulator = Emulator(EmulatorConfig(seed=7, scale=200, auto_consent=True)).start()
    try:
        db_path = folder / "landing.duckdb"
        emulator.clock.advance(2)
        (result,) = run_sync(
            settings_for(emulator, db_path), select("users"), auth=bearer_auth(emulator)
        )
        assert result.ok
    finally:
        emulator.stop()
    (folder / "grant.json").write_text(f'{{"access_token": "{TOKEN}"}}')
    (folder / "grant.csv").write_text(f"access_token\n{TOKEN}\n")
    with duckdb.connect(str(folder / "other.duckdb")) as other:
        other.execute(f"CREATE TABLE secrets AS SELECT '{TOKEN}' AS token")
        other.execute(f"COPY secrets TO '{folder / 'grant.parquet'}' (FORMAT parquet)")
    yield folder


def _sql(
    folder: Path, query: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.chdir(folder)
    monkeypatch.setenv("OUTREACH_DUCKDB_PATH", str(folder / "landing.duckdb"))
    code = cli.main(["sql", query])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


REFUSED = {
    "read_text": "SELECT * FROM read_text('{folder}/grant.json')",
    "read_blob": "SELECT * FROM read_blob('{folder}/grant.json')",
    "read_csv": "SELECT * FROM read_csv('{folder}/grant.csv')",
    "replacement_scan": "SELECT * FROM '{folder}/grant.csv'",
    "read_parquet": "SELECT * FROM read_parquet('{folder}/grant.parquet')",
    "glob": "SELECT * FROM glob('{folder}/*')",
    "attach": "ATTACH '{folder}/other.duckdb' AS other",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "copy_to": "COPY (SELECT * FROM users) TO '{folder}/out.csv'",
    "export_database": "EXPORT DATABASE '{folder}/exported'",
    "enable_external_access": "SET enable_external_access = true",
    "unlock_configuration": "SET lock_configuration = false",
    "allowed_directories": "SET allowed_directories = ['/']",
}


@pytest.mark.parametrize("name", REFUSED)
def test_a_query_reaches_nothing_but_the_landing(
    name: str,
    landing: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = sorted(p.name for p in landing.iterdir())

    code, out, err = _sql(landing, REFUSED[name].format(folder=landing), monkeypatch, capsys)

    assert code == 2
    assert TOKEN not in out + err
    line = err.splitlines()[0]  # then DuckDB's pointer into the query, if it gave one
    assert line.startswith("outreach-pipeline sql: ")
    assert "Permission Error" in line or "configuration has been locked" in line, line
    assert sorted(p.name for p in landing.iterdir()) == before


def test_queries_on_the_landing_still_work(
    landing: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _sql(
        landing,
        "SELECT (SELECT count(*) FROM users) = (SELECT count(*) FROM outreach.users) AS same",
        monkeypatch,
        capsys,
    )
    assert code == 0 and "True" in out


WRITER_DIES_AFTER_COMMIT = """
import os, sys, duckdb
con = duckdb.connect(sys.argv[1], config={"checkpoint_threshold": "1GB"})
con.execute("CREATE TABLE outreach.late AS SELECT 42 AS answer")
os._exit(0)  # committed to the write-ahead log, never checkpointed
"""


def test_the_write_ahead_log_is_still_replayed(
    landing: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "wal"
    folder.mkdir()
    shutil.copy(landing / "landing.duckdb", folder / "landing.duckdb")
    subprocess.run(
        [sys.executable, "-c", WRITER_DIES_AFTER_COMMIT, str(folder / "landing.duckdb")],
        check=True,
    )
    assert (folder / "landing.duckdb.wal").exists()

    code, out, err = _sql(folder, "SELECT answer FROM outreach.late", monkeypatch, capsys)

    assert code == 0, err
    assert "42" in out
