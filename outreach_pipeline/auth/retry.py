"""Bounded retries for token requests (OAuth token endpoint and S2S exchange).

Transient answers (429 ``Retry later``, 5xx) and transport failures (timeouts, resets) are
retried with exponential backoff and full jitter, honouring a short ``Retry-After``; anything
else is final. Note: a refresh that timed out after the server handled it has spent the refresh
token, and its retry will be refused: nothing a client can do about that, so it is retried anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
import tenacity

from outreach_pipeline.auth.errors import TokenEndpointUnavailable

T = TypeVar("T")
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class TokenRetryPolicy:
    attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 10.0
    # Seconds one attempt may take (read timeout); connecting gets at most 10 s.
    attempt_timeout: float = 30.0

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.attempt_timeout, connect=min(10.0, self.attempt_timeout))


class TransientTokenFailure(Exception):
    """One attempt failed in a way worth retrying; ``what`` is safe to show."""

    def __init__(self, what: str, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after


def transient_answer(response: httpx.Response) -> TransientTokenFailure | None:
    if response.status_code not in TRANSIENT_STATUSES:
        return None
    header = response.headers.get("Retry-After", "")
    retry_after = float(header) if header.isdigit() else None
    return TransientTokenFailure(f"HTTP {response.status_code}", retry_after)


def send_with_retries(
    name: str, attempt: Callable[[httpx.Timeout], T], policy: TokenRetryPolicy | None = None
) -> T:
    """Run ``attempt(timeout)`` until it returns, raises a final error, or attempts run out.

    httpx transport errors are turned into :class:`TransientTokenFailure` by type name only:
    their text and request may hold form bodies, so they are never chained.
    """
    policy = policy or TokenRetryPolicy()
    jitter = tenacity.wait_random_exponential(multiplier=policy.initial_wait, max=policy.max_wait)

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, TransientTokenFailure) and error.retry_after is not None:
            return min(error.retry_after, policy.max_wait)
        return jitter(state)

    def guarded() -> T:
        try:
            return attempt(policy.timeout())
        except httpx.TransportError as error:
            raise TransientTokenFailure(type(error).__name__) from None

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(TransientTokenFailure),
        wait=wait,
        stop=tenacity.stop_after_attempt(policy.attempts),
        reraise=True,
    )
    try:
        return retrying(guarded)
    except TransientTokenFailure as failure:
        raise TokenEndpointUnavailable(
            f"{name} kept failing ({failure.what}) after {policy.attempts} attempts"
        ) from None
