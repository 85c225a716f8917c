"""A sync's progress in the Dagster run's event log: each stream's start, finish and retries,
and in between a line per stream at most every :data:`EVERY` seconds (not one per page)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from outreach_pipeline.sync import StreamResult, SyncProgress

EVERY = 10.0


class RunLogProgress(SyncProgress):
    """Writes to ``info`` and ``warning`` (a run's ``context.log.info``/``.warning``)."""

    def __init__(
        self,
        info: Callable[[str], object],
        warning: Callable[[str], object],
        every: float = EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._info = info
        self._warning = warning
        self._every = every
        self._clock = clock
        self._lock = threading.Lock()
        # stream -> (records read, pages read, when last logged)
        self._seen: dict[str, tuple[int, int, float]] = {}

    def stream_started(self, stream: str) -> None:
        with self._lock:
            self._seen[stream] = (0, 0, self._clock())
        self._info(f"{stream}: started")

    def page_read(self, stream: str, records: int, count: int | None) -> None:
        with self._lock:
            read, pages, logged = self._seen.get(stream, (0, 0, self._clock()))
            read, pages = read + records, pages + 1
            due = self._clock() - logged >= self._every
            self._seen[stream] = (read, pages, self._clock() if due else logged)
        if due:
            of = f" of {count}" if count is not None else ""
            self._info(f"{stream}: {read}{of} records read in {pages} pages")

    def retrying(self, stream: str, problem: str, wait: float) -> None:
        self._warning(f"{stream}: retrying in {wait:.1f} s ({problem})")

    def stream_finished(self, result: StreamResult) -> None:
        status = "interrupted" if result.interrupted else "ok" if result.ok else "FAILED"
        line = (
            f"{result.stream}: {status}, {result.records} rows, {result.pages} pages, "
            f"{result.requests} requests, {result.duration_s:.1f} s"
        )
        if result.ok:
            self._info(line)
        else:
            self._warning(f"{line}: {result.error}")
