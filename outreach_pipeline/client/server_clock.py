"""The API's clock, read off the ``Date`` header of its answers.

Incremental windows end at the server's "now", not the host's: a host clock ahead of the
API's would move the cursor past records the API has yet to write. ``Date`` has whole
seconds, so the clock reads up to a second behind, never ahead.
"""

from __future__ import annotations

import email.utils
import threading
import time


class ServerClock:
    """The latest ``Date`` seen, moved on by the local monotonic clock since."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: tuple[float, float] | None = None  # (server epoch seconds, monotonic)

    def observe(self, date_header: str | None) -> None:
        if not date_header:
            return
        try:
            moment = email.utils.parsedate_to_datetime(date_header)
        except (TypeError, ValueError):
            return
        with self._lock:
            self._seen = (moment.timestamp(), time.monotonic())

    def now(self) -> float | None:
        """Epoch seconds on the server's clock; None before any answer carried a ``Date``."""
        with self._lock:
            if self._seen is None:
                return None
            server, at = self._seen
        return server + (time.monotonic() - at)
