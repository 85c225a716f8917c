"""One way to retry: a :class:`RetryPolicy` and :class:`Retries`, its tenacity loop.

Token requests (``auth``), API requests (``client``) and opening a locked DuckDB file
(``landing``) each retry with a policy of their own (:data:`TOKEN_REQUESTS`,
:data:`API_REQUESTS`, :func:`locked_file`); Dagster retries a failed step on top. How the
layers add up: docs/contracts.md, "Retries".

Between attempts the wait is the one the failure asks for (a server's ``Retry-After``, read by
:func:`retry_after_seconds`), else an exponential backoff with jitter. A server's wait is
honoured in full, never cut short, as long as the operation's waiting stays within the policy's
``max_total_wait``; a longer one is not waited for: the loop stops at once and
:attr:`Retries.refused_wait` says how long the server asked for, so the error can say when to
try again (:func:`utc_time`).
"""

from __future__ import annotations

import email.utils
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import tenacity

T = TypeVar("T")
# RFC 9110 delay-seconds are digits; a fraction is tolerated, a sign or an exponent is not.
_DELAY_SECONDS = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one operation.

    At most ``attempts`` attempts (None: as many as the waiting budget allows). After the n-th
    failure the wait is the one the failure asks for, else a backoff between half and all of
    ``initial_wait * 2**(n-1)``, at most ``max_wait``. All waits of one operation together stay
    within ``max_total_wait`` seconds: the loop stops rather than start a wait past it.
    ``attempt_timeout``: seconds one attempt may take, for callers that bound their attempts
    by it (token requests); None where the caller has bounds of its own (the API client's
    timeouts and ``PageLimits``)."""

    attempts: int | None
    initial_wait: float
    max_wait: float
    max_total_wait: float
    attempt_timeout: float | None = None

    def backoff_ceiling(self, failures: int) -> float:
        return min(self.max_wait, self.initial_wait * 2 ** (failures - 1))

    def backoff(self, failures: int) -> float:
        """The wait after ``failures`` failures when nothing says how long: jittered in the
        upper half, so that concurrent callers spread out but none retries at once."""
        ceiling = self.backoff_ceiling(failures)
        return random.uniform(ceiling / 2, ceiling)

    def longest_backoff(self) -> float:
        """The most one operation can wait when no failure says how long (each backoff at its
        ceiling), within ``max_total_wait``; for a policy without an attempt limit, the latter."""
        if self.attempts is None:
            return self.max_total_wait
        waits = (self.backoff_ceiling(n) for n in range(1, self.attempts))
        return min(self.max_total_wait, sum(waits))


# A token request: the token endpoint is quick to answer; two minutes of trying is plenty.
TOKEN_ATTEMPT_TIMEOUT = 30.0
TOKEN_REQUESTS = RetryPolicy(
    attempts=5,
    initial_wait=0.5,
    max_wait=10.0,
    max_total_wait=120.0,
    attempt_timeout=TOKEN_ATTEMPT_TIMEOUT,
)
# An API request: a 429 may ask to wait for the rest of the hour-long rate-limit window.
API_REQUESTS = RetryPolicy(attempts=6, initial_wait=0.5, max_wait=30.0, max_total_wait=3700.0)


def locked_file(lock_timeout: float) -> RetryPolicy:
    """Opening a DuckDB file another process holds: tried again and again for up to
    ``lock_timeout`` seconds, pausing 20 ms to 0.1 s. The pause is capped low: readers that
    reopen the file every few milliseconds leave it free only briefly, and a writer pausing up
    to a second seldom came back in such a gap."""
    return RetryPolicy(attempts=None, initial_wait=0.02, max_wait=0.1, max_total_wait=lock_timeout)


def retry_after_seconds(value: str, now: float) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait from ``now`` (epoch seconds): delay-seconds
    or an HTTP date (RFC 9110: IMF-fixdate, or the obsolete RFC 850 and asctime forms; a date
    in the past: 0). None when it is neither (a negative number, an exponent, garbage)."""
    value = value.strip()
    if _DELAY_SECONDS.fullmatch(value):
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT; an obsolete form may omit the zone
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


def utc_time(epoch: float) -> str:
    """``epoch`` as ``2026-12-01 00:36:00 UTC`` (far beyond any calendar: "a very late time")."""
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, ValueError, OSError):
        return "a very late time"


class Retries:
    """The attempts of one operation under ``policy``: ``retries(attempt)`` calls ``attempt``
    until it returns, raises an error ``retry_on`` rejects, attempts run out or the next wait
    would pass the budget; then the last error is raised as it is.

    ``asked_wait(error)``: the wait a failure asks for (a server's ``Retry-After``), if any.
    ``failures(state)``: the failed attempts that count, for the attempt limit and the backoff
    (default: every attempt so far). ``sleep`` waits (e.g. on a stop event); ``before_sleep``
    is told of each retry, its wait in ``state.next_action.sleep``."""

    def __init__(
        self,
        policy: RetryPolicy,
        retry_on: Callable[[BaseException], bool],
        *,
        asked_wait: Callable[[BaseException], float | None] = lambda error: None,
        failures: Callable[[tenacity.RetryCallState], int] = lambda state: state.attempt_number,
        sleep: Callable[[float], None] = time.sleep,
        before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
    ) -> None:
        self.policy = policy
        # The wait a failure asked for that the budget refused; None if the loop ended otherwise.
        self.refused_wait: float | None = None
        self._asked_wait = asked_wait
        self._failures = failures
        self._retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(retry_on),
            wait=self._wait,
            stop=self._stop,
            sleep=sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

    @property
    def attempts_made(self) -> int:
        return int(self._retrying.statistics.get("attempt_number", 0))

    def __call__(self, attempt: Callable[[], T]) -> T:
        self.refused_wait = None
        return self._retrying(attempt)

    def _asked(self, state: tenacity.RetryCallState) -> float | None:
        error = state.outcome.exception() if state.outcome is not None else None
        return self._asked_wait(error) if error is not None else None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        asked = self._asked(state)
        return asked if asked is not None else self.policy.backoff(self._failures(state))

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        """Called after ``_wait``, with its result in ``state.upcoming_sleep``."""
        attempts = self.policy.attempts
        if attempts is not None and self._failures(state) >= attempts:
            return True
        if state.idle_for + state.upcoming_sleep <= self.policy.max_total_wait:
            return False
        self.refused_wait = self._asked(state)
        return True
