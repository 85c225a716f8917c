"""The benchmark's ``latency`` profile: the real API's conditions on the emulator, and the
critical-path bound no contender can beat under them.

Conditions (set on the emulator once it is warmed, see benchmarks/run.py): latency drawn per
answer from the emulator's ``realistic`` latency profile (median 0.2 s + 0.15 ms per record,
lognormal tail, see docs/emulator.md), 1% of pages of 500 records or more answered 502, 0.2%
of requests answered 429 ``Retry-After: 1``, and the hourly limit of 10,000 requests per user
(each contender run gets a user of its own, so each starts with a full budget). The "hour" can
be shortened to make the limit bind within a benchmark: ``hour_seconds`` scales the window and
the limit alike (36 s: 100 requests), which keeps the sustained rate (2.8 requests/s) but
shrinks the budget a sync can spend at once a hundredfold, so it is harsher than the real API.

The bound, for one sync, is the larger of
- the **critical path**: the largest stream read as one chain of pages, each page waiting the
  profile's mean latency for its records (pages of the stream's catalog page size, 1000);
- the **rate limit**: the pages beyond the first window's budget, at the limit's sustained
  rate (``(pages - limit) / limit`` windows). A sync that fits in one budget is not slowed by
  the limit at all, so ``pages / limit`` alone (an hour per 10,000) would be no lower bound.
Both count the fewest requests the data needs, not the requests a contender made: a
contender that asks more (smaller pages, retries) does not raise its own bound. Serving and
client time are left out: the bound is what the latency alone imposes.

A contender that cuts a stream's window into parts read at once (ours, see
outreach_pipeline/sync/page_chains.py) is not held to one chain per stream: its own least time
is every page's latency over the pages it asks at once (``latency_seconds``, the sum, is
recorded beside the bound for that).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from outreach_emulator.latency import LATENCY_PROFILES, LatencyModel
from outreach_pipeline.catalog import default_streams

LATENCY_PROFILE = "realistic"
HOURLY_LIMIT = 10_000
HOUR = 3600
FAULTS: dict[str, Any] = {
    "latency_profile": LATENCY_PROFILE,
    "big_page_error_rate": 0.01,
    "throttle_rate": 0.002,
}


def model() -> LatencyModel:
    chosen = LATENCY_PROFILES[LATENCY_PROFILE]
    assert chosen is not None
    return chosen


@dataclass(frozen=True)
class RateLimit:
    """``limit`` requests per ``window`` seconds: the hour, or a shortened one."""

    limit: int
    window: int

    @classmethod
    def hour_of(cls, seconds: int) -> RateLimit:
        return cls(max(1, round(HOURLY_LIMIT * seconds / HOUR)), seconds)

    def least_seconds(self, requests: int) -> float:
        """The least time ``requests`` take under the limit, starting with a full budget."""
        return max(0, requests - self.limit) / self.limit * self.window


@dataclass(frozen=True)
class Bound:
    seconds: float
    path_seconds: float
    path_stream: str
    rate_seconds: float
    pages: int
    # Every page's mean latency, summed: over the pages a contender asks at once, the least
    # time of one that cuts windows.
    latency_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 2),
            "critical_path_seconds": round(self.path_seconds, 2),
            "critical_path_stream": self.path_stream,
            "rate_limit_seconds": round(self.rate_seconds, 2),
            "pages": self.pages,
            "all_pages_latency_seconds": round(self.latency_seconds, 2),
        }


def stream_pages(records: int, page_size: int) -> list[int]:
    """Records in each page of a stream read at ``page_size`` (an empty stream: one page)."""
    full, rest = divmod(records, page_size)
    return [page_size] * full + ([rest] if rest or not full else [])


def bound(records: Mapping[str, int], rate: RateLimit) -> Bound:
    """The bound of a sync reading ``records`` (stream path -> records to read) of the
    default streams, one chain of pages per stream."""
    latency = model()
    chains: dict[str, float] = {}
    pages = 0
    for stream in default_streams():
        sizes = stream_pages(records.get(stream.path, 0), stream.page_size)
        pages += len(sizes)
        chains[stream.path] = math.fsum(latency.expected(n) for n in sizes)
    path_stream = max(chains, key=lambda path: chains[path])
    rate_seconds = rate.least_seconds(pages)
    return Bound(
        seconds=max(chains[path_stream], rate_seconds),
        path_seconds=chains[path_stream],
        path_stream=path_stream,
        rate_seconds=rate_seconds,
        pages=pages,
        latency_seconds=math.fsum(chains.values()),
    )
