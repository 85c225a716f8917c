"""The read snapshot (landing/read_snapshot.py, Database, landing/reading.py) on real DuckDB
files: when the writer publishes, what a reader keeps while a newer one is renamed in, copies
left by a publisher that died, a full disk, and a landing changed behind the writer's back."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from outreach_pipeline.landing import Database, DatabaseBusy, sync_writer_lock
from outreach_pipeline.landing.read_snapshot import is_current, snapshot_path
from outreach_pipeline.landing.reading import open_for_reading
from outreach_pipeline.settings import SettingsError, load_settings
from tests.reliability.mounts import small_disk


def _insert(db: Database, rows: int) -> None:
    """``rows`` rows of ~40 bytes each once compressed."""
    query = f"INSERT INTO outreach.t SELECT range, md5(random()::VARCHAR) FROM range({rows})"
    db.submit(lambda con: con.execute(query)).result()


def _count(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM outreach.t").fetchone()[0]  # type: ignore[index]


def _count_in_another_process(path: Path) -> int:
    """As a new reader sees it (in this process, DuckDB hands out the instance it has open
    for that path, the replaced file's)."""
    script = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(con.execute('SELECT count(*) FROM outreach.t').fetchone()[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], check=True, capture_output=True, text=True
    )
    return int(done.stdout)


def _database(db_path: Path, publish_interval: float) -> Database:
    db = Database(db_path, publish_interval=publish_interval)
    with db.transaction() as con:
        con.execute("CREATE SCHEMA outreach; CREATE TABLE outreach.t (id BIGINT, v VARCHAR)")
    return db


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "landing.duckdb"


def test_the_first_commit_and_the_close_publish(db_path: Path) -> None:
    db = _database(db_path, publish_interval=3600)
    snapshot = snapshot_path(db_path)
    assert snapshot == db_path.with_name("landing.read.duckdb")
    assert _count(snapshot) == 0  # the new landing's first commit, tables and all
    _insert(db, 10)
    assert _count(snapshot) == 0  # not due yet
    db.close()
    assert _count(snapshot) == 10 and is_current(db_path)
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600
    assert sorted(p.name for p in db_path.parent.iterdir()) == [db_path.name, snapshot.name]


def test_a_next_writer_publishes_only_when_it_has_written(db_path: Path) -> None:
    _database(db_path, publish_interval=3600).close()
    snapshot = snapshot_path(db_path)
    published = snapshot.stat().st_ino
    db = Database(db_path, publish_interval=3600)
    with db.transaction() as con:  # the snapshot is current: no copy at the first commit
        con.execute("SELECT 1")
    assert snapshot.stat().st_ino == published
    _insert(db, 4)
    db.close()
    assert snapshot.stat().st_ino != published and _count(snapshot) == 4
    Database(db_path).close()  # opened and closed without a write
    assert is_current(db_path)


def test_publishes_while_writing_and_an_open_reader_keeps_its_copy(db_path: Path) -> None:
    db = _database(db_path, publish_interval=0)  # after every commit
    _insert(db, 5)
    snapshot = snapshot_path(db_path)
    with duckdb.connect(str(snapshot), read_only=True) as reader:
        assert reader.execute("SELECT count(*) FROM outreach.t").fetchone() == (5,)
        _insert(db, 5)  # renamed over the file the reader has open
        assert _count_in_another_process(snapshot) == 10
        assert reader.execute("SELECT count(*) FROM outreach.t").fetchone() == (5,)
    db.close()


def test_publishes_at_most_every_interval(db_path: Path) -> None:
    db = _database(db_path, publish_interval=0.5)
    _insert(db, 5)
    _insert(db, 5)
    assert _count(snapshot_path(db_path)) == 0
    time.sleep(0.6)
    _insert(db, 5)  # due (or published when the writer closed the idle file)
    assert _count(snapshot_path(db_path)) >= 10
    db.close()


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_copies_left_by_a_publisher_that_died_are_removed(db_path: Path) -> None:
    db = _database(db_path, publish_interval=3600)
    snapshot = snapshot_path(db_path)
    dead = [
        snapshot.with_name(f"{snapshot.name}.publishing-{_dead_pid()}-k2j4"),
        snapshot.with_name(f"{snapshot.name}.publishing-{_dead_pid()}-k2j4.wal"),
    ]
    alive = snapshot.with_name(f"{snapshot.name}.publishing-{os.getppid()}-x7y8")
    for path in (*dead, alive):
        path.write_bytes(b"half a copy")
    _insert(db, 3)
    db.close()
    assert not any(path.exists() for path in dead)
    assert alive.exists()  # still being written by a live process
    assert _count(snapshot) == 3


def test_a_full_disk_keeps_the_last_snapshot_and_writing_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "disk"
    with small_disk(folder, "12m"):
        db_path = folder / "landing.duckdb"
        db = _database(db_path, publish_interval=0)
        _insert(db, 1_000)
        published = _count(snapshot_path(db_path))
        caplog.set_level(logging.WARNING)
        for _ in range(5):  # +1 MB each: from ~4.5 MB, the landing, its snapshot and the
            _insert(db, 50_000)  # copy no longer fit in 12 MB

        warnings = [r for r in caplog.records if "could not publish" in r.getMessage()]
        assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
        assert _count(snapshot_path(db_path)) >= published  # the last one that fitted
        assert [p.name for p in folder.iterdir() if ".publishing-" in p.name] == []
        subprocess.run(["mount", "-o", "remount,size=200m", str(folder)], check=True)
        db.close()  # with room again, the close publishes everything
        assert _count(snapshot_path(db_path)) == 251_000
        assert _count(db_path) == 251_000


def test_a_reader_publishes_a_landing_changed_by_another_tool(db_path: Path) -> None:
    _database(db_path, publish_interval=3600).close()
    with duckdb.connect(str(db_path)) as writer:  # not through Database: no publish
        writer.execute("INSERT INTO outreach.t VALUES (1, 'a')")
    assert not is_current(db_path)
    with open_for_reading(db_path) as con:
        assert con.execute("SELECT count(*) FROM outreach.t").fetchone() == (1,)
    assert is_current(db_path)


def test_a_reader_leaves_the_landing_alone_while_a_sync_runs(db_path: Path) -> None:
    _database(db_path, publish_interval=3600).close()
    with sync_writer_lock(db_path, wait=0), duckdb.connect(str(db_path)) as writer:
        writer.execute("INSERT INTO outreach.t VALUES (1, 'a')")
        started = time.monotonic()
        with open_for_reading(db_path) as con:  # the snapshot, at once, not the landing
            assert con.execute("SELECT count(*) FROM outreach.t").fetchone() == (0,)
        assert time.monotonic() - started < 1
    assert not is_current(db_path)


def test_a_landing_from_before_snapshots_is_published_by_its_next_writer(db_path: Path) -> None:
    db_path.parent.mkdir()
    with duckdb.connect(str(db_path)) as old:
        old.execute("CREATE SCHEMA outreach; CREATE TABLE outreach.t AS SELECT 7 AS id, 'v' AS v")
    db = Database(db_path, publish_interval=3600)
    with db.transaction() as con:
        con.execute("INSERT INTO outreach.t VALUES (8, 'w')")
    assert _count(snapshot_path(db_path)) == 2  # published after its first commit
    db.close()


def test_a_reader_waits_for_a_first_sync_to_publish(db_path: Path) -> None:
    db_path.parent.mkdir()
    with sync_writer_lock(db_path, wait=0):  # a first sync, not published yet
        with pytest.raises(DatabaseBusy, match=r"no read snapshot \(landing.read.duckdb\) yet"):
            open_for_reading(db_path, lock_timeout=0.2)
        writer = threading.Timer(0.3, lambda: _database(db_path, 3600).close())
        writer.start()
        started = time.monotonic()
        with open_for_reading(db_path, lock_timeout=10) as con:
            assert con.execute("SELECT count(*) FROM outreach.t").fetchone() == (0,)
        assert time.monotonic() - started >= 0.3
        writer.join()


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_bad_interval_setting_is_named(value: str) -> None:
    with pytest.raises(SettingsError, match="OUTREACH_READ_SNAPSHOT_INTERVAL"):
        load_settings(env={"OUTREACH_READ_SNAPSHOT_INTERVAL": value}, dotenv=None)
    interval = load_settings(env={"OUTREACH_READ_SNAPSHOT_INTERVAL": "2.5"}, dotenv=None)
    assert interval.read_snapshot_interval == 2.5
