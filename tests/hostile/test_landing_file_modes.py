"""The landing holds customer PII: under the usual umask (022) a real ``outreach-pipeline sync``
against the emulator creates the database, its write-ahead log, its lock and its folder for
their owner only; and a database left 0644 (by an older version) is narrowed by the next sync.
A watcher lists the folder every few milliseconds while the sync runs, since the write-ahead
log only lives from a commit to the next checkpoint.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from outreach_emulator import Emulator
from tests.reliability.cli_runs import start_cli
from tests.reliability.grants import stored_grant_env


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


class ModeWatcher:
    """Records the loosest mode each entry of ``folder`` (recursively) was seen with."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.modes: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _look(self) -> None:
        for path in self.folder.rglob("*"):
            try:
                mode = stat.S_IMODE(path.lstat().st_mode)
            except FileNotFoundError:
                continue
            name = str(path.relative_to(self.folder))
            self.modes[name] = self.modes.get(name, 0) | mode

    def _watch(self) -> None:
        while not self._stop.wait(0.002):
            self._look()

    def __enter__(self) -> ModeWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._look()


def _sync(env: dict[str, str], cwd: Path, *args: str) -> None:
    child = start_cli(["sync", *args], env, cwd)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err


def test_a_sync_creates_the_landing_for_its_owner_only(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator()
    emulator.faults.set(latency=0.02)
    env = stored_grant_env(emulator, tmp_path)
    data = tmp_path / "data"
    env["OUTREACH_DUCKDB_PATH"] = str(data / "landing.duckdb")
    with umask(0o022), ModeWatcher(tmp_path) as watcher:
        _sync(env, tmp_path, "--streams", "prospects,accounts,users", "--batch-rows", "20")

    modes = {name: mode for name, mode in watcher.modes.items() if name.startswith("data")}
    assert "data/landing.duckdb.wal" in modes, f"no write-ahead log seen: {sorted(modes)}"
    assert modes["data"] == 0o700
    assert modes["data/landing.duckdb"] == 0o600
    assert modes["data/landing.duckdb.wal"] == 0o600
    assert modes["data/landing.duckdb.sync.lock"] == 0o600
    loose = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert not loose, loose


def test_a_world_readable_landing_is_narrowed_by_the_next_sync(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = stored_grant_env(emulator, tmp_path)
    db_path = Path(env["OUTREACH_DUCKDB_PATH"])
    with umask(0o022):
        with duckdb.connect(str(db_path)) as con:  # as an older version left it
            con.execute("CREATE TABLE kept AS SELECT 1 AS one")
        assert stat.S_IMODE(db_path.stat().st_mode) == 0o644
        _sync(env, tmp_path, "--streams", "users")

    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM outreach.users").fetchone() == (
            len(emulator.data.records("users")),
        )
