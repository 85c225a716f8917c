"""Ctrl-C and SIGTERM stop a command's sync in seconds, keeping what it had read.

The first signal sets an event the sync watches (:func:`~outreach_pipeline.sync.run_sync`'s
``stop``): no request starts after it, each stream's pages read so far land whole, and the
command reports what was kept. A second signal ends the process at once; a batch that was
landing then is rolled back by DuckDB, as after any crash, and the next sync resumes.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType, TracebackType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopOnSignal:
    """While inside it (in the main thread), SIGINT and SIGTERM set :attr:`event`."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal: signal.Signals | None = None
        self._previous: dict[signal.Signals, object] = {}

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as shells report a process a signal ended."""
        return 128 + int(self.signal or signal.SIGINT)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.signal is not None:
            print("stopped at once on a second signal", file=sys.stderr, flush=True)
            os._exit(128 + number)
        self.signal = signal.Signals(number)
        self.event.set()
        print(
            f"{self.signal.name}: stopping; the pages read so far are being landed "
            "(a second signal stops at once)",
            file=sys.stderr,
            flush=True,
        )

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, previous)  # type: ignore[arg-type]
