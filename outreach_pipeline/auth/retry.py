"""Bounded retries for token requests (OAuth token endpoint and S2S exchange).

Transient answers (429 ``Retry later``, 5xx) and transport failures (timeouts, resets) are
retried with exponential backoff and full jitter; anything else is final. A ``Retry-After``
(seconds or an HTTP date) is honoured as long as the waiting of one token request stays within
``TokenRetryPolicy.max_total_wait`` (120 s by default): a server asking for longer is not
retried early against its wishes, nor waited for, but answered with an error that says when to
try again. A run's stop (Ctrl-C) ends a wait at once (``transport/stop_context.py``). Note: a
refresh that timed out after the server handled it has spent the refresh token, and its retry
will be refused: nothing a client can do about that, so it is retried anyway.
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import httpx
import tenacity

from outreach_pipeline.auth.errors import TokenEndpointUnavailable, UnexpectedTokenAnswer
from outreach_pipeline.transport import pause

T = TypeVar("T")
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
_DELAY_SECONDS = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class TokenRetryPolicy:
    attempts: int = 5
    initial_wait: float = 0.5
    # The longest pause between attempts when the server does not say how long to wait.
    max_wait: float = 10.0
    # The most one token request spends waiting between attempts, Retry-After included.
    max_total_wait: float = 120.0
    # Seconds one attempt may take in all, connecting and a trickled answer included (the
    # attempt's deadline, see transport/deadline.py); connecting gets at most 10 s.
    attempt_timeout: float = 30.0

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.attempt_timeout, connect=min(10.0, self.attempt_timeout))


class TransientTokenFailure(Exception):
    """One attempt failed in a way worth retrying; ``what`` is safe to show."""

    def __init__(self, what: str, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after


def retry_after_seconds(value: str, now: float) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait from ``now`` (epoch seconds): delay-seconds
    or an HTTP date (a date in the past: 0). None when it is neither."""
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


def transient_answer(response: httpx.Response) -> TransientTokenFailure | None:
    if response.status_code not in TRANSIENT_STATUSES:
        return None
    retry_after = retry_after_seconds(response.headers.get("Retry-After", ""), time.time())
    return TransientTokenFailure(f"HTTP {response.status_code}", retry_after)


def utc_time(epoch: float) -> str:
    """``epoch`` as ``2026-12-01 00:36:00 UTC`` (far beyond any calendar: "a very late time")."""
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, ValueError, OSError):
        return "a very late time"


class _WaitBudget(tenacity.stop.stop_base):
    """Stops before a wait would take the total past ``limit`` seconds; ``refused_wait`` is
    the server's Retry-After that did so, if one did."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.refused_wait: float | None = None

    def __call__(self, state: tenacity.RetryCallState) -> bool:
        if state.idle_for + state.upcoming_sleep <= self.limit:
            return False
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, TransientTokenFailure) and error.retry_after is not None:
            self.refused_wait = error.retry_after
        return True


def send_with_retries(
    name: str, attempt: Callable[[httpx.Timeout], T], policy: TokenRetryPolicy | None = None
) -> T:
    """Run ``attempt(timeout)`` until it returns, raises a final error, attempts run out, or
    the next wait would take the request past ``policy.max_total_wait``.

    httpx transport errors are turned into :class:`TransientTokenFailure` by type name only:
    their text and request may hold form bodies, so they are never chained.
    """
    policy = policy or TokenRetryPolicy()
    jitter = tenacity.wait_random_exponential(multiplier=policy.initial_wait, max=policy.max_wait)
    budget = _WaitBudget(policy.max_total_wait)

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, TransientTokenFailure) and error.retry_after is not None:
            return error.retry_after
        return float(jitter(state))

    def guarded() -> T:
        try:
            return attempt(policy.timeout())
        except httpx.TransportError as error:
            raise TransientTokenFailure(type(error).__name__) from None
        except httpx.HTTPError as error:  # e.g. a body that does not decode as announced
            raise UnexpectedTokenAnswer(
                f"{name} got an unreadable answer ({type(error).__name__})",
                "the stored grant is kept: check OUTREACH_OAUTH_URL and try again later",
            ) from None

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(TransientTokenFailure),
        wait=wait,
        stop=tenacity.stop_after_attempt(policy.attempts) | budget,
        sleep=pause,
        reraise=True,
    )
    try:
        return retrying(guarded)
    except TransientTokenFailure as failure:
        if budget.refused_wait is not None:
            seconds = budget.refused_wait
            raise TokenEndpointUnavailable(
                f"{name} was asked to wait {seconds:.0f} s ({failure.what} with Retry-After), "
                f"longer than a token request waits ({policy.max_total_wait:.0f} s); the "
                f"stored grant is kept: try again after {utc_time(time.time() + seconds)}"
            ) from None
        raise TokenEndpointUnavailable(
            f"{name} kept failing ({failure.what}) after {retrying.statistics['attempt_number']}"
            " attempts; the stored grant is kept: Outreach's token endpoint seems unavailable,"
            " try again in a few minutes"
        ) from None
