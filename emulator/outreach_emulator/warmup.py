"""Serialize every record ahead of time, in worker processes, so a first full read is served
from cache instead of waiting on generation (~10k records/s per core; pages are joined from
cached bytes far faster than that).

Workers are forked: each inherits the store as it stands and generates a range of ids; only
the bytes travel back. Call it before the server starts accepting (see ``Emulator.start``).
A fork also inherits the process's signal handlers: workers restore SIGTERM's default, which
the pool relies on to end them (see :func:`_default_sigterm`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

from outreach_emulator.data import RecordStore, UnknownRecord

CHUNK = 2000
_forked_store: RecordStore | None = None


def _default_sigterm() -> None:
    """A worker dies on SIGTERM. Leaving the pool terminates it, which ends workers still
    waiting for tasks with SIGTERM and then joins them; a handler inherited from the parent
    (the ``emulator`` command's only sets an event) would keep them alive and the join,
    hence the warm-up, waiting for ever."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _serialize(job: tuple[str, int, int]) -> list[bytes | None]:
    path, start, stop = job
    assert _forked_store is not None
    return [_serialized_or_none(_forked_store, path, i) for i in range(start, stop)]


def _serialized_or_none(store: RecordStore, path: str, record_id: int) -> bytes | None:
    try:
        return store.resource_bytes(path, record_id)
    except UnknownRecord:
        return None


def warm(store: RecordStore, workers: int | None = None) -> float:
    """Fill the byte cache of every stream; returns the seconds it took."""
    global _forked_store
    started = time.perf_counter()
    jobs = [
        (path, start, min(start + CHUNK, table.last_id + 1))
        for path, table in store.tables.items()
        for start in range(1, table.last_id + 1, CHUNK)
    ]
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        for job in jobs:
            _serialize_into(store, job, [None] * (job[2] - job[1]))
        return time.perf_counter() - started
    _forked_store = store
    forking = multiprocessing.get_context("fork")
    try:
        with forking.Pool(workers, initializer=_default_sigterm) as pool:
            for job, blobs in zip(jobs, pool.imap(_serialize, jobs), strict=True):
                _serialize_into(store, job, blobs)
    finally:
        _forked_store = None
    return time.perf_counter() - started


def _serialize_into(
    store: RecordStore, job: tuple[str, int, int], blobs: list[bytes | None]
) -> None:
    path, start, stop = job
    cache = store.tables[path].cache
    for record_id, blob in zip(range(start, stop), blobs, strict=True):
        if blob is None:
            blob = _serialized_or_none(store, path, record_id)
        if blob is not None:
            cache[record_id] = blob
