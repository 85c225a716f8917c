"""The read snapshot: a copy of the landing that readers open while a sync writes it.

DuckDB lets one process hold a database file for writing and refuses it to every other
process meanwhile, read-only openers included; a sync holds the landing for most of its run
(at scale 20000 a reader was locked out for the whole 35 s of a full refresh). So the writer
publishes a copy beside it, ``<name>.read<suffix>`` (``data/outreach_data.read.duckdb``):
between two transactions, never inside a batch, it checkpoints (the file then holds every
commit, with no write-ahead log to replay), copies the file under a temporary name (0600),
fsyncs it and renames it over the snapshot. Nobody opens the snapshot for writing, so a
read-only opener never meets a lock; a reader still open when a newer copy is renamed over
it keeps reading the file it opened until it closes.

The snapshot's modification time is set to the landing's (the later of the file's and its
write-ahead log's) at the time of the copy, so :func:`is_current` tells from two ``stat``
calls whether the landing has changed since: after a sync that died between two publishes,
or a write by another tool, the next reader that finds no writer republishes
(``reading.open_for_reading``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import suppress
from pathlib import Path

import duckdb

from outreach_pipeline.landing.private_files import OwnerOnlyUmask
from outreach_pipeline.landing.processes import is_alive

_PUBLISHING = ".publishing-"


def snapshot_path(db_path: Path) -> Path:
    """``data/outreach_data.duckdb`` -> ``data/outreach_data.read.duckdb``."""
    return db_path.with_name(f"{db_path.stem}.read{db_path.suffix}")


def _wal(db_path: Path) -> Path:
    return Path(f"{db_path}.wal")


def _landing_time(db_path: Path) -> int:
    """When the landing last changed: its file's or its write-ahead log's mtime (ns)."""
    stamp = db_path.stat().st_mtime_ns
    with suppress(FileNotFoundError):
        stamp = max(stamp, _wal(db_path).stat().st_mtime_ns)
    return stamp


def is_current(db_path: Path) -> bool:
    """Whether the snapshot holds what the landing holds now (False if there is none)."""
    try:
        return snapshot_path(db_path).stat().st_mtime_ns == _landing_time(db_path)
    except FileNotFoundError:
        return False


def publish(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Publish the landing through the writer's connection ``con``, between transactions.

    Raises ``OSError`` or ``duckdb.Error`` (disk full) with the previous snapshot in place."""
    con.execute("CHECKPOINT")
    _publish_copy(db_path, with_wal=False)


def publish_held(db_path: Path) -> None:
    """Publish the landing while the caller holds it open read-only, so that no writer can
    change it meanwhile: its file and write-ahead log are copied, and the log is replayed
    into the copy."""
    _publish_copy(db_path, with_wal=True)


def _publish_copy(db_path: Path, with_wal: bool) -> None:
    snapshot = snapshot_path(db_path)
    _remove_leftovers(db_path)
    stamp = _landing_time(db_path)
    fd, name = tempfile.mkstemp(
        dir=snapshot.parent, prefix=f"{snapshot.name}{_PUBLISHING}{os.getpid()}-"
    )
    os.close(fd)
    copy = Path(name)
    try:
        shutil.copyfile(db_path, copy)  # into the 0600 file mkstemp made
        if with_wal and _wal(db_path).exists():
            _replay_wal(db_path, copy)
        _sync(copy)
        os.utime(copy, ns=(stamp, stamp))
        _wal(snapshot).unlink(missing_ok=True)  # never replayed into a newer snapshot
        os.replace(copy, snapshot)
    except BaseException:
        for path in (copy, _wal(copy)):
            path.unlink(missing_ok=True)
        raise
    _sync(snapshot.parent)


def _replay_wal(db_path: Path, copy: Path) -> None:
    """Copy the landing's write-ahead log beside ``copy`` and checkpoint it into ``copy``."""
    fd = os.open(_wal(copy), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    shutil.copyfile(_wal(db_path), _wal(copy))
    OwnerOnlyUmask.hold()
    try:
        with duckdb.connect(str(copy), config={"threads": "1"}) as con:
            con.execute("CHECKPOINT")
    finally:
        OwnerOnlyUmask.release()
    _wal(copy).unlink(missing_ok=True)


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_leftovers(db_path: Path) -> None:
    """Delete copies that a publisher which died mid-copy left (those of live processes are
    still being written)."""
    snapshot = snapshot_path(db_path)
    for leftover in snapshot.parent.glob(f"{snapshot.name}{_PUBLISHING}*"):
        pid = leftover.name[len(snapshot.name) + len(_PUBLISHING) :].split("-")[0]
        if not (pid.isdigit() and is_alive(int(pid))):
            leftover.unlink(missing_ok=True)
