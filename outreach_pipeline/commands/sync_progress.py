"""How ``outreach-pipeline sync`` shows a run as it goes (see :mod:`..sync.progress`).

On a terminal: a live table, a line per stream (records, pages, rate, ETA when the API gave
a count), redrawn a few times a second. Otherwise (a log file, a pipe, CI): one line per
stream start, finish and retry, each naming the stream, so a log says what happened when.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from outreach_pipeline.redaction import redact
from outreach_pipeline.sync import StreamResult, SyncProgress


@dataclass
class StreamTally:
    """One stream's progress so far."""

    started: float = field(default_factory=time.monotonic)
    records: int = 0
    pages: int = 0
    count: int | None = None
    status: str = "running"
    finished: float | None = None

    def read(self, records: int, count: int | None) -> None:
        self.records += records
        self.pages += 1
        if count is not None:
            self.count = count

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta(self) -> str:
        """Seconds left at the current rate, when the listing's size is known."""
        if self.count is None or self.finished is not None or self.rate <= 0:
            return ""
        return f"{max(0, self.count - self.records) / self.rate:.0f} s"


def outcome(result: StreamResult) -> str:
    if result.interrupted:
        return "interrupted"
    return "ok" if result.ok else "FAILED"


def run_outcome(results: Sequence[StreamResult]) -> str:
    """FAILED when a stream failed, else interrupted when one was stopped, else ok."""
    outcomes = {outcome(r) for r in results}
    return next((o for o in ("FAILED", "interrupted") if o in outcomes), "ok")


class PlainLines(SyncProgress):
    """A timestamped line per stream start, finish and retry."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()

    def _line(self, text: str) -> None:
        with self._lock:
            self._out.write(f"{datetime.now():%H:%M:%S} {text}\n")
            self._out.flush()

    def stream_started(self, stream: str) -> None:
        self._line(f"{stream}: started")

    def retrying(self, stream: str, problem: str, wait: float) -> None:
        self._line(f"{stream}: retrying in {wait:.1f} s ({redact(problem)})")

    def stream_finished(self, result: StreamResult) -> None:
        done = (
            f"{result.stream}: {outcome(result)}, {result.records} rows, {result.pages} pages, "
            f"{result.requests} requests, {result.duration_s:.1f} s"
        )
        if result.error and not result.interrupted:
            done += f": {result.error}"
        self._line(done)


class LiveTable(SyncProgress):
    """A table on the terminal, a line per stream, redrawn as pages come in; a context
    manager (the table shows while inside it)."""

    def __init__(self, console: Console) -> None:
        self._tallies: dict[str, StreamTally] = {}
        self._live = Live(console=console, refresh_per_second=4, get_renderable=self._table)

    def __enter__(self) -> LiveTable:
        self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._live.stop()

    def _table(self) -> Table:
        table = Table(box=None, header_style="bold")
        for name in ("stream", "status", "records", "pages", "records/s", "ETA", "seconds"):
            table.add_column(name, justify="left" if name in ("stream", "status") else "right")
        for stream, tally in list(self._tallies.items()):
            table.add_row(
                stream,
                tally.status,
                f"{tally.records:,}" + (f" / {tally.count:,}" if tally.count else ""),
                str(tally.pages),
                f"{tally.rate:,.0f}",
                tally.eta,
                f"{tally.seconds:.1f}",
            )
        return table

    def stream_started(self, stream: str) -> None:
        self._tallies[stream] = StreamTally()

    def page_read(self, stream: str, records: int, count: int | None) -> None:
        tally = self._tallies[stream]
        tally.read(records, count)
        tally.status = "running"

    def retrying(self, stream: str, problem: str, wait: float) -> None:
        tally = self._tallies.get(stream)
        if tally is not None:
            tally.status = f"retrying in {wait:.0f} s"
        self._live.console.print(f"{stream}: retrying in {wait:.1f} s ({redact(problem)})")

    def stream_finished(self, result: StreamResult) -> None:
        tally = self._tallies.setdefault(result.stream, StreamTally())
        tally.status = outcome(result)
        tally.finished = time.monotonic()
