"""Issue 15, item 12: the token endpoint's ``Retry-After`` (seconds or an HTTP date) is
honoured, never cut short, as long as one token request waits at most
``TOKEN_REQUESTS.max_total_wait``; a longer wait is not attempted: the error says when to try
again."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from outreach_pipeline.auth.errors import TokenEndpointUnavailable
from outreach_pipeline.auth.oauth import OAuthClient
from outreach_pipeline.retry import TOKEN_REQUESTS, RetryPolicy
from outreach_pipeline.settings import Credentials, Secret
from tests.hostile.oauth_support import token_answer
from tests.hostile.server import HostileServer, Reply, Seen


def _client(server: HostileServer, policy: RetryPolicy) -> OAuthClient:
    credentials = Credentials("production", "client", Secret("client-secret-value"))
    return OAuthClient(f"{server.url}/oauth", credentials, "http://127.0.0.1/cb", policy)


def _busy_then_ok(retry_after: list[str]) -> tuple[HostileServer, list[float]]:
    """429 with each of ``retry_after`` in turn, then a token; the arrival times."""
    arrivals: list[float] = []

    def answer(seen: Seen) -> Reply:
        arrivals.append(time.monotonic())
        if len(arrivals) <= len(retry_after):
            return Reply(
                429, b"Retry later", headers={"Retry-After": retry_after[len(arrivals) - 1]}
            )
        return token_answer()

    return HostileServer(answer), arrivals


def test_a_retry_after_longer_than_the_backoff_cap_is_waited_in_full() -> None:
    server, arrivals = _busy_then_ok(["2"])
    with server:
        _client(server, replace(TOKEN_REQUESTS, max_wait=0.2)).refresh(Secret("a-refresh-token-1"))
    assert arrivals[1] - arrivals[0] >= 1.9


def test_a_retry_after_date_is_waited_for() -> None:
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    server, arrivals = _busy_then_ok([format_datetime(moment, usegmt=True)])
    with server:
        _client(server, replace(TOKEN_REQUESTS, max_wait=0.2)).refresh(Secret("a-refresh-token-1"))
    assert arrivals[1] - arrivals[0] >= 1.5


def test_a_wait_beyond_the_budget_is_not_attempted_and_says_when() -> None:
    server, arrivals = _busy_then_ok(["2", "2", "2"])
    started = time.time()
    with server, pytest.raises(TokenEndpointUnavailable) as raised:
        _client(server, replace(TOKEN_REQUESTS, max_total_wait=3)).refresh(
            Secret("a-refresh-token-1")
        )
    assert len(arrivals) == 2, "the second 2 s wait would pass the 3 s budget"
    message = str(raised.value)
    assert "asked to wait 2 s" in message and "(3 s)" in message, message
    when = datetime.strptime(message.rsplit("try again after ", 1)[1], "%Y-%m-%d %H:%M:%S UTC")
    assert abs(when.replace(tzinfo=UTC).timestamp() - (started + 4)) < 3


def test_an_hour_is_not_retried_every_ten_seconds() -> None:
    server, arrivals = _busy_then_ok(["3600"] * 5)
    started = time.monotonic()
    with server, pytest.raises(TokenEndpointUnavailable, match="asked to wait 3600 s"):
        _client(server, TOKEN_REQUESTS).refresh(Secret("a-refresh-token-1"))
    assert len(arrivals) == 1 and time.monotonic() - started < 5
