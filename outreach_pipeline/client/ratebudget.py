"""One request budget per authorizing user, shared by every stream fetched in the process.

Outreach allows a fixed number of requests per hour per user and reports what is left in
``X-RateLimit-Remaining`` (sometimes two values, ``"9999, 19988"``: the smaller one binds) and
when the window restarts in ``X-RateLimit-Reset`` (epoch seconds). Every request first takes a
slot here; a slot is only granted while the last reported remaining count, minus the requests
already in flight, stays above a reserve. So concurrent streams slow down before the budget
reaches 0 instead of learning about it from a 429, and together never exceed it.

Other processes may spend the same user's budget (two syncs of one grant, another tool), and
their requests in flight are counted nowhere here: the remaining count an answer reports is
already short by them. So one process never has more in flight than a share of what is left
(``share``, a quarter): up to four processes at once never have more in flight together than
the most any of them last heard was left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from outreach_pipeline.transport import Interrupted

# X-RateLimit-Reset values below this are read as seconds from now rather than epoch seconds.
_EPOCH_THRESHOLD = 1_000_000_000


@dataclass(frozen=True)
class RateHeaders:
    """What one answer said about the budget (None where the header was absent)."""

    limit: int | None
    remaining: int | None
    reset_at: float | None


def _smallest_int(value: str | None) -> int | None:
    if not value:
        return None
    numbers = []
    for part in value.split(","):
        try:
            numbers.append(int(float(part.strip())))
        except ValueError:
            continue
    return min(numbers) if numbers else None


def read_rate_headers(headers: Mapping[str, str], now: float) -> RateHeaders:
    """Budget headers of one answer; the two-value form keeps the smaller (binding) value."""
    reset = _smallest_int(headers.get("x-ratelimit-reset"))
    reset_at: float | None = None
    if reset is not None:
        reset_at = float(reset) if reset >= _EPOCH_THRESHOLD else now + reset
    return RateHeaders(
        limit=_smallest_int(headers.get("x-ratelimit-limit")),
        remaining=_smallest_int(headers.get("x-ratelimit-remaining")),
        reset_at=reset_at,
    )


class RateBudget:
    """Grants request slots against the server-reported budget of one user.

    ``reserve`` slots are never spent (room for other tools using the same grant); once less
    than ``low_water`` (a share of the limit) is left, requests are spaced evenly until the
    window resets. At most ``share`` of what is left (less the reserve) is in flight at once,
    and at least one request. Until the first answer reports the budget only one request is
    in flight.
    ``clock`` and ``sleep`` are injectable so tests can run hours of rate-limit windows
    against an emulator's test clock; by default a wait is ended by the stop event of the
    run that waits (see :meth:`acquire`).
    """

    def __init__(
        self,
        reserve: int = 2,
        low_water: float = 0.1,
        share: float = 0.25,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], object] | None = None,
        max_wait: float = 3700.0,
    ) -> None:
        self.reserve = reserve
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        self._condition = threading.Condition()
        self.low_water = low_water
        self.share = share
        self._limit: int | None = None
        self._last_grant = float("-inf")
        self._remaining: int | None = None
        self._reset_at: float | None = None
        self._in_flight = 0

    @property
    def remaining(self) -> int | None:
        """The budget left as last reported (None before the first answer)."""
        return self._remaining

    def acquire(self, stop: threading.Event | None = None) -> None:
        """Block until one more request fits in the budget, then count it as in flight; once
        ``stop`` (the waiting run's) is set, raise :class:`Interrupted` instead, at once."""
        stop = stop or threading.Event()
        with self._condition:
            while True:
                if stop.is_set():
                    raise Interrupted("stopped on request")
                wait = self._wait_needed()
                if wait is None:
                    self._in_flight += 1
                    self._last_grant = self._clock()
                    return
                if wait > 0:
                    self._condition.release()
                    try:
                        (self._sleep or stop.wait)(min(wait, self._max_wait))
                    finally:
                        self._condition.acquire()
                    self._start_new_window_if_due()
                else:
                    self._condition.wait(timeout=1.0)

    def _wait_needed(self) -> float | None:
        """None: go now; 0: wait for an in-flight answer; >0: seconds to sleep first."""
        if self._remaining is None:
            return None if self._in_flight == 0 else 0.0
        left = self._remaining - self.reserve
        spendable = left - self._in_flight
        if spendable > 0 and (self._in_flight == 0 or self._in_flight < left * self.share):
            return self._pace(spendable)
        if self._in_flight > 0:
            return 0.0
        if self._reset_at is None:
            return 1.0
        return max(0.05, self._reset_at - self._clock())

    def _pace(self, spendable: int) -> float | None:
        """Below ``low_water`` of the limit, spread what is left evenly until the reset, so
        the budget runs low slowly instead of running out early."""
        if self._limit is None or self._reset_at is None:
            return None
        if spendable > self.low_water * self._limit:
            return None
        now = self._clock()
        gap = max(0.0, self._reset_at - now) / spendable
        wait = self._last_grant + gap - now
        return wait if wait > 0 else None

    def _start_new_window_if_due(self) -> None:
        if self._reset_at is not None and self._clock() >= self._reset_at:
            # The window rolled over: learn the new budget from the next answer.
            self._remaining = None
            self._reset_at = None

    def release(self, headers: RateHeaders | None) -> None:
        """One request finished; ``headers`` is what its answer reported (None: no answer)."""
        with self._condition:
            self._in_flight = max(0, self._in_flight - 1)
            if headers is not None and headers.remaining is not None:
                self._update(headers)
            self._condition.notify_all()

    def exhausted(self, reset_at: float) -> None:
        """A 429 arrived: nothing is left until ``reset_at``, for every stream."""
        with self._condition:
            self._remaining = 0
            self._reset_at = reset_at

    def _update(self, headers: RateHeaders) -> None:
        assert headers.remaining is not None
        if headers.limit is not None:
            self._limit = headers.limit
        new_window = headers.reset_at is not None and headers.reset_at != self._reset_at
        if self._remaining is None or new_window:
            # Answers of the new window; a stale answer of the previous window would carry
            # an earlier reset and is ignored.
            if (
                self._reset_at is not None
                and headers.reset_at is not None
                and headers.reset_at < self._reset_at
            ):
                return
            self._remaining = headers.remaining
            self._reset_at = headers.reset_at
        else:
            # Answers within one window can arrive out of order: the lowest count is newest.
            self._remaining = min(self._remaining, headers.remaining)


_SHARED: dict[str, RateBudget] = {}
_SHARED_LOCK = threading.Lock()


def shared_budget(user_key: str) -> RateBudget:
    """The process-wide budget of one authorizing user (created on first use)."""
    with _SHARED_LOCK:
        budget = _SHARED.get(user_key)
        if budget is None:
            budget = _SHARED[user_key] = RateBudget()
        return budget
