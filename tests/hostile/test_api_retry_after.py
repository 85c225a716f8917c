"""Issue 17, item 2: the API's ``Retry-After`` is read by the same rules as the token
endpoint's (:func:`outreach_pipeline.retry.retry_after_seconds`): delay-seconds or an HTTP date
is waited in full; a negative number or garbage is no answer (the fallback wait applies, not an
immediate retry); a wait past the policy's budget is not attempted: the sync stops at once,
saying when to try again."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from outreach_pipeline.retry import API_REQUESTS
from tests.hostile.oauth_support import cli, environment, stored_grant
from tests.hostile.server import HostileServer, Reply, Seen, page
from tests.hostile.sync_support import settings_for, store_grant, sync_users, user

# The wait a 429 gets when it does not say how long (and no rate-limit reset is known).
FALLBACK = 0.4
AT_LEAST_FALLBACK = (FALLBACK - 0.05, 1.5)
POLICY = replace(API_REQUESTS, attempts=3, initial_wait=0.01, max_wait=FALLBACK)


def _busy_once(retry_after: str) -> tuple[HostileServer, list[float]]:
    """429 with ``retry_after`` for the first API request, a page of users after; the arrival
    times of the API requests."""
    arrivals: list[float] = []

    def answer(seen: Seen) -> Reply:
        arrivals.append(time.monotonic())
        if len(arrivals) == 1:
            return Reply(429, b"{}", headers={"Retry-After": retry_after})
        return Reply(body=page([user(1), user(2)]))

    return HostileServer(answer), arrivals


def _in(seconds: float) -> str:
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
    return format_datetime(moment, usegmt=True)


@pytest.mark.parametrize(
    ("retry_after", "bounds"),
    [
        ("2", (1.9, 3.0)),
        (" 1.5 ", (1.4, 2.5)),
        ("date", (1.0, 3.5)),  # an HTTP date 3 s ahead, whole seconds: 2-3 s from now
        ("-5", AT_LEAST_FALLBACK),  # not "now"
        ("1e1", AT_LEAST_FALLBACK),  # not 10 s: no exponents in delay-seconds
        ("in a minute", AT_LEAST_FALLBACK),
    ],
)
def test_the_api_retry_after_is_seconds_or_a_date_else_the_fallback(
    tmp_path: Path, retry_after: str, bounds: tuple[float, float]
) -> None:
    server, arrivals = _busy_once(_in(3) if retry_after == "date" else retry_after)
    with server:
        settings = settings_for(server, tmp_path)
        store_grant(settings)
        result = sync_users(settings, retry=POLICY)
    assert result.ok, result.error
    assert result.records == 2
    waited = arrivals[1] - arrivals[0]
    assert bounds[0] <= waited <= bounds[1], f"Retry-After {retry_after!r}: waited {waited:.2f} s"


@pytest.mark.parametrize("retry_after", ["86400", "date"])
def test_a_retry_after_past_the_budget_stops_the_sync_at_once_saying_when(
    tmp_path: Path, retry_after: str
) -> None:
    """The production policy (an hour's waiting): a day is neither waited for nor cut short."""
    value = _in(86400) if retry_after == "date" else retry_after
    answer = Reply(429, b"{}", headers={"Retry-After": value})
    with HostileServer(lambda seen: answer) as server:
        env = environment(server.url, tmp_path)
        stored_grant(env, expired=False)
        started = time.monotonic()
        result = cli(env, "sync", "--streams", "prospects")
        took = time.monotonic() - started
        api_requests = [s for s in server.requests_to("/api/") if s.path.endswith("/prospects")]
    assert took < 30, f"the sync waited: {took:.0f} s"
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "asked to wait 86" in output and "(3700 s)" in output, output
    when = datetime.now(UTC) + timedelta(days=1)
    assert f"try again after {when:%Y-%m-%d %H:}" in output, output
    assert 1 <= len(api_requests) <= 2, "one request for the clock, one for the stream at most"
