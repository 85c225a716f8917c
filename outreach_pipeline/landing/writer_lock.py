"""One sync writes a landing at a time, whichever process runs it: a lock file beside the
database (``<db>.sync.lock``, 0600), held for the whole of a sync's writing.

A stream without a cursor is landed through a stage table that a run empties when it starts
and swaps in when it ends, so two runs at once emptied each other's stage and one swapped in
an incomplete one. DuckDB's own file lock does not keep them apart (a sync lets the file go
between batches, so readers get in), nor does Dagster's pool (it serialises Dagster steps, not
a command-line sync). The lock is the kernel's (``flock``): it goes with its holder when that
process dies, however it dies. The holder writes its PID into the file, so whoever waits can
say for whom.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout

from outreach_pipeline.landing.database import DatabaseBusy
from outreach_pipeline.landing.private_files import PRIVATE_FILE, make_folder
from outreach_pipeline.landing.processes import is_alive
from outreach_pipeline.transport import Interrupted

log = logging.getLogger(__name__)
# Seconds between tries of a taken lock.
_POLL = 0.1


class SyncInProgress(DatabaseBusy):
    """Another sync held the landing's writer lock for longer than this one would wait."""


def writer_lock_path(db_path: Path) -> Path:
    return Path(f"{db_path}.sync.lock")


@contextmanager
def sync_writer_lock(
    db_path: Path, wait: float, stop: threading.Event | None = None
) -> Iterator[None]:
    """Hold the writer lock of the landing at ``db_path``; while another sync holds it, say so
    and wait up to ``wait`` seconds, then raise :class:`SyncInProgress`. Once ``stop`` is set
    (Ctrl-C), the wait ends within a fraction of a second, raising :class:`Interrupted`."""
    path = writer_lock_path(db_path)
    make_folder(path.parent)
    lock = FileLock(path, mode=PRIVATE_FILE, fallback_to_soft=False, on_acquired=_write_pid)
    if not _acquired(lock, 0, stop):
        holder = _holder(path)
        if wait > 0:
            log.warning(
                "waiting for the sync running in %s to finish (up to %.0f s; lock %s)",
                holder,
                wait,
                path,
            )
        if not _acquired(lock, wait, stop):
            waited = f", still after waiting {wait:.0f} s" if wait > 0 else ""
            raise SyncInProgress(
                f"{db_path} is being written by the sync running in {holder} (lock {path})"
                f"{waited}; sync again once it has finished"
            )
    try:
        yield
    finally:
        with suppress(OSError):
            os.truncate(path, 0)  # no stale PID for the next one to name
        lock.release()


def _acquired(lock: FileLock, wait: float, stop: threading.Event | None) -> bool:
    """Whether ``lock`` was taken within ``wait`` seconds; tried every ``_POLL`` seconds
    (``FileLock`` sleeps between tries where no event can end it)."""
    stop = stop or threading.Event()
    end = time.monotonic() + wait
    while True:
        try:
            lock.acquire(timeout=0)
            return True
        except Timeout:
            left = end - time.monotonic()
            if left <= 0:
                return False
        if stop.wait(min(_POLL, left)):
            raise Interrupted("stopped on request while waiting for the writer lock")


def _write_pid(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def sync_running(db_path: Path) -> bool:
    """Whether a sync holds the landing's writer lock now, told without taking the lock (a
    sync starting at that moment would find it taken): the holder's PID is in the file,
    and the file is emptied on release (a sync that was killed leaves a dead PID)."""
    try:
        pid = writer_lock_path(db_path).read_text().strip()
    except OSError:
        return False
    return pid.isdigit() and is_alive(int(pid))


def _holder(path: Path) -> str:
    """``PID 1234`` as the holder wrote it (``another process`` before it has)."""
    try:
        pid = path.read_text().strip()
    except OSError:
        pid = ""
    return f"PID {pid}" if pid.isdigit() else "another process"
