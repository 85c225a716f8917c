"""Bounded retries for token requests (OAuth token endpoint and S2S exchange).

Transient answers (429 ``Retry later``, 5xx) and transport failures (timeouts, resets) are
retried under :data:`~outreach_pipeline.retry.TOKEN_REQUESTS`; anything else is final. A
``Retry-After`` (seconds or an HTTP date) is honoured as long as the waiting of one token
request stays within the policy's ``max_total_wait`` (120 s by default): a server asking for
longer is not retried early against its wishes, nor waited for, but answered with an error that
says when to try again. Note: a refresh that timed out after the server handled it has spent the
refresh token, and its retry will be refused: nothing a client can do about that, so it is
retried anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from outreach_pipeline.auth.errors import TokenEndpointUnavailable, UnexpectedTokenAnswer
from outreach_pipeline.retry import (
    TOKEN_ATTEMPT_TIMEOUT,
    TOKEN_REQUESTS,
    Retries,
    RetryPolicy,
    retry_after_seconds,
    utc_time,
)
from outreach_pipeline.transport import pause

T = TypeVar("T")
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class TransientTokenFailure(Exception):
    """One attempt failed in a way worth retrying; ``what`` is safe to show."""

    def __init__(self, what: str, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after


def transient_answer(response: httpx.Response) -> TransientTokenFailure | None:
    if response.status_code not in TRANSIENT_STATUSES:
        return None
    retry_after = retry_after_seconds(response.headers.get("Retry-After", ""), time.time())
    return TransientTokenFailure(f"HTTP {response.status_code}", retry_after)


def attempt_timeout(policy: RetryPolicy) -> httpx.Timeout:
    """The policy's ``attempt_timeout`` (a token request's default if it has none) to read;
    connecting: at most 10 s."""
    seconds = policy.attempt_timeout or TOKEN_ATTEMPT_TIMEOUT
    return httpx.Timeout(seconds, connect=min(10.0, seconds))


def send_with_retries(
    name: str, attempt: Callable[[httpx.Timeout], T], policy: RetryPolicy | None = None
) -> T:
    """Run ``attempt(timeout)`` until it returns, raises a final error, attempts run out, or
    the next wait would take the request past ``policy.max_total_wait``.

    httpx transport errors are turned into :class:`TransientTokenFailure` by type name only:
    their text and request may hold form bodies, so they are never chained.
    """
    policy = policy or TOKEN_REQUESTS
    timeout = attempt_timeout(policy)

    def guarded() -> T:
        try:
            return attempt(timeout)
        except httpx.TransportError as error:
            raise TransientTokenFailure(type(error).__name__) from None
        except httpx.HTTPError as error:  # e.g. a body that does not decode as announced
            raise UnexpectedTokenAnswer(
                f"{name} got an unreadable answer ({type(error).__name__})",
                "the stored grant is kept: check OUTREACH_OAUTH_URL and try again later",
            ) from None

    retries = Retries(
        policy,
        retry_on=lambda error: isinstance(error, TransientTokenFailure),
        asked_wait=lambda error: (
            error.retry_after if isinstance(error, TransientTokenFailure) else None
        ),
        sleep=pause,
    )
    try:
        return retries(guarded)
    except TransientTokenFailure as failure:
        if retries.refused_wait is not None:
            seconds = retries.refused_wait
            raise TokenEndpointUnavailable(
                f"{name} was asked to wait {seconds:.0f} s ({failure.what} with Retry-After), "
                f"longer than a token request waits ({policy.max_total_wait:.0f} s); the "
                f"stored grant is kept: try again after {utc_time(time.time() + seconds)}"
            ) from None
        raise TokenEndpointUnavailable(
            f"{name} kept failing ({failure.what}) after {retries.attempts_made}"
            " attempts; the stored grant is kept: Outreach's token endpoint seems unavailable,"
            " try again in a few minutes"
        ) from None
