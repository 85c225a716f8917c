"""Issue 15, item 10: no request outlives its deadline, whatever the server does with it.

A server that trickles its status line and headers (a byte every 0.25 s: each read gets a
byte long before httpx's read timeout), accepts the connection and never answers, or
trickles its body (a chunk every 10 s) used to hold a page for as long as it liked: the
deadline was checked only between body chunks. Now each socket operation waits at most until
the request's deadline (``transport/deadline.py``), for API pages (``PageLimits.deadline``), token
requests (``TOKEN_REQUESTS.attempt_timeout``) and ``auth login``'s ``/users`` lookup alike.
Each test bounds its run with a thread: without the fix it is still running at the bound.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest

from outreach_pipeline.auth import AuthError, build_auth
from outreach_pipeline.auth.identity import identify
from outreach_pipeline.catalog import stream
from outreach_pipeline.client import PageLimits, RateBudget
from outreach_pipeline.retry import TOKEN_REQUESTS, RetryPolicy
from outreach_pipeline.settings import Secret
from outreach_pipeline.sync import SyncOptions, run_sync
from tests.hostile.server import HostileServer, Reply, Seen, page, resource
from tests.hostile.sync_support import (
    landed_ids,
    query,
    run_rows,
    settings_for,
    store_grant,
    token_reply,
    user,
)

T = TypeVar("T")
DEADLINE = 1.0
TWO_TRIES = RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.02, max_total_wait=120.0)
# Two attempts of at most DEADLINE each, their retry wait, and the landing of both streams.
BOUND = 2 * DEADLINE + 3.0

HOSTILE = {
    "headers trickled": Reply(body=page([]), head_delay=0.25),
    "never answers": Reply(hang=120),
    "body trickled": Reply(body=[b'{"data": [', b"]}"], chunk_delay=10),
}


def _within(seconds: float, call: Callable[[], T]) -> tuple[T, float]:
    """``call()``'s result and how long it took; fails if it is still running after
    ``seconds`` (the thread is left to end once the server stops)."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:
            failure.append(error)

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    took = time.monotonic() - started
    assert not thread.is_alive(), f"still running after {seconds:.1f} s"
    if failure:
        raise failure[0]
    return outcome[0], took


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_page_withheld_ends_its_stream_by_the_deadline(tmp_path: Path, case: str) -> None:
    """``users`` meets the hostile answer; ``accounts``, in the same run, lands whole."""

    def answer(seen: Seen) -> Reply:
        if seen.path.endswith("/accounts"):
            accounts = [
                resource("account", n, updatedAt="2025-01-01T00:00:00.000Z") for n in (1, 2)
            ]
            return Reply(body=page(accounts))
        if seen.query.get("page[size]") == "1":  # the run's clock probe
            return Reply(body=page([user(1)]))
        return HOSTILE[case]

    with HostileServer(answer) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        options = SyncOptions(page_limits=PageLimits(deadline=DEADLINE))
        results, took = _within(
            BOUND,
            lambda: run_sync(
                settings,
                [stream("users"), stream("accounts")],
                auth=build_auth(settings),
                options=options,
                budget=RateBudget(),
                retry=TWO_TRIES,
            ),
        )
    users, accounts = results
    assert users.error is not None and "\n" not in users.error
    assert f"not done within the request's {DEADLINE:g} s deadline" in users.error
    assert accounts.ok, accounts.error
    assert query(settings, "SELECT id FROM outreach.accounts ORDER BY id") == [(1,), (2,)]
    assert landed_ids(settings) == []
    assert dict(run_rows(settings)) == {"users": users.error, "accounts": None}
    print(f"deadline {case}: stream ended {took:.1f} s after the run started")


@pytest.mark.parametrize("case", ["headers trickled", "body trickled"])
def test_a_token_request_trickled_ends_by_its_deadline(tmp_path: Path, case: str) -> None:
    """The access token has expired, the token endpoint trickles its answer: the run stops
    with the auth error and a row per stream, after two attempts of one second."""
    trickled = {
        "headers trickled": Reply(body=b"{}", head_delay=0.25),
        "body trickled": Reply(body=[b"{"] + [b" "] * 100 + [b"}"], chunk_delay=0.25),
    }[case]

    def answer(seen: Seen) -> Reply:
        if token_reply(seen) is not None:
            return trickled
        return Reply(body=page([user(1)]))

    with HostileServer(answer) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings, expires_in=-60)
        policy = replace(TOKEN_REQUESTS, attempts=2, initial_wait=0.01, attempt_timeout=DEADLINE)

        def sync() -> AuthError:
            with pytest.raises(AuthError) as raised:
                run_sync(settings, [stream("users")], auth=build_auth(settings, retry=policy))
            return raised.value

        error, took = _within(BOUND, sync)
        assert len(api.requests_to("/oauth/token")) == 2
    assert "kept failing (ReadTimeout)" in str(error)
    [(name, recorded)] = run_rows(settings)
    assert name == "users" and recorded is not None and "ReadTimeout" in recorded
    print(f"deadline token {case}: {took:.1f} s")


def test_the_login_user_lookup_ends_by_its_deadline() -> None:
    """``auth login`` asks ``/users/{id}`` for the email: a trickled answer costs its deadline,
    then the login goes on without the email."""
    claims = base64.urlsafe_b64encode(json.dumps({"sub": 7}).encode()).decode().rstrip("=")
    with HostileServer(lambda seen: Reply(body=b"{}", head_delay=0.25)) as api:
        identity, took = _within(
            DEADLINE + 2.0, lambda: identify(f"{api.url}/api/v2", Secret(f"h.{claims}.s"), DEADLINE)
        )
    assert identity == (7, None)
    print(f"deadline identity: {took:.1f} s")
