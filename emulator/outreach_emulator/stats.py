"""Counters of what the emulator served, for tests and benchmarks to read.

``pages_served`` counts answers that carried records (listing pages and single records);
``records_served`` the records in them.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()  # by route: api, oauth, s2s, admin, other
        self.statuses: Counter[int] = Counter()
        self.streams: Counter[str] = Counter()  # /api requests by stream path
        self.records = 0
        self.pages = 0
        self.bytes = 0
        self.faults: Counter[str] = Counter()

    def record(self, route: str, status: int, size: int, records: int, stream: str) -> None:
        with self._lock:
            self.requests[route] += 1
            self.statuses[status] += 1
            self.bytes += size
            if stream:
                self.streams[stream] += 1
            if records:
                self.records += records
                self.pages += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "streams": dict(self.streams),
                "records_served": self.records,
                "pages_served": self.pages,
                "bytes_served": self.bytes,
                "faults": dict(self.faults),
            }
