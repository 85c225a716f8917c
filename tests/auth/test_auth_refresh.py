"""Refresh against the emulator: proactive, on 401, rotation, transient failures, dead grants."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import pytest

from outreach_emulator import Emulator
from outreach_pipeline.auth import ReauthorizationRequired, TokenEndpointUnavailable
from outreach_pipeline.auth.build import oauth_client
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.httpx_auth import BearerTokenAuth
from outreach_pipeline.auth.token_manager import TokenManager
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.retry import TOKEN_REQUESTS, RetryPolicy
from outreach_pipeline.settings import Settings
from tests.auth.auth_support import emulator_env, settings_from, store_issued_grant

REDIRECT_URI = "http://127.0.0.1:8976/callback"
QUICK = replace(TOKEN_REQUESTS, attempts=4, initial_wait=0.01, max_wait=0.05, attempt_timeout=2.0)


@dataclass
class Clock:
    """This machine's clock, moved ahead by ``offset`` seconds."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Harness:
    settings: Settings
    manager: TokenManager
    clock: Clock
    client: httpx.Client
    events: list[tuple[str, str]] = field(default_factory=list)

    def get(self, path: str = "users") -> httpx.Response:
        return self.client.get(f"{self.settings.api_url}/{path}")

    def stored(self) -> Grant:
        grant = open_token_store(self.settings).load()
        assert grant is not None
        return grant


class RecordingStore:
    """The settings' store, noting each saved access token, so tests can check saves come
    before use."""

    def __init__(self, settings: Settings, events: list[tuple[str, str]]) -> None:
        self.store = open_token_store(settings)
        self.events = events

    def load(self) -> Grant | None:
        return self.store.load()

    def lock(self) -> AbstractContextManager[None]:
        return self.store.lock()

    def delete(self) -> bool:
        return self.store.delete()

    def save(self, grant: Grant) -> None:
        self.store.save(grant)
        self.events.append(("saved", grant.access_token.reveal()))


@pytest.fixture
def env(oauth_emulator: Emulator, store_location: Path | str, redirect_uri: str) -> dict[str, str]:
    """Every refresh test runs on each token store backend (file, PostgreSQL)."""
    return emulator_env(oauth_emulator, store_location, redirect_uri)


@pytest.fixture
def harness(settings: Settings) -> Iterator[Callable[..., Harness]]:
    clients: list[httpx.Client] = []

    def make(
        settings: Settings = settings,
        retry: RetryPolicy = QUICK,
        transport: httpx.BaseTransport | None = None,
    ) -> Harness:
        events: list[tuple[str, str]] = []
        clock = Clock()
        manager = TokenManager(
            RecordingStore(settings, events),
            lambda kind: oauth_client(settings, kind, retry),
            clock=clock,
        )

        def note_request(request: httpx.Request) -> None:
            events.append(("sent", request.headers["Authorization"].removeprefix("Bearer ")))

        client = httpx.Client(
            auth=BearerTokenAuth(manager),
            transport=transport,
            event_hooks={"request": [note_request]},
        )
        clients.append(client)
        return Harness(settings, manager, clock, client, events)

    yield make
    for client in clients:
        client.close()


def unauthorized(emulator: Emulator) -> int:
    return int(emulator.stats["statuses"].get("401", 0))


def test_proactive_refresh_before_expiry_saves_the_rotation_first(
    oauth_emulator: Emulator, settings: Settings, harness: Callable[..., Harness]
) -> None:
    first = store_issued_grant(oauth_emulator, settings)
    h = harness()
    assert h.get().status_code == 200
    assert h.manager.refreshes == 0
    h.clock.offset = 7200 - 200  # inside the 300 s margin
    assert h.get().status_code == 200
    assert h.manager.refreshes == 1 and unauthorized(oauth_emulator) == 0
    stored = h.stored()
    assert stored.refresh_token != first.refresh_token and stored.refreshed_at is not None
    new_token = stored.access_token.reveal()
    assert h.events.index(("saved", new_token)) < h.events.index(("sent", new_token))


def test_a_401_refreshes_once_and_retries(
    oauth_emulator: Emulator, settings: Settings, harness: Callable[..., Harness]
) -> None:
    store_issued_grant(oauth_emulator, settings)
    h = harness()
    assert h.get().status_code == 200
    oauth_emulator.clock.advance(7300)  # the server's clock: this machine still trusts the token
    assert h.get().status_code == 200
    assert unauthorized(oauth_emulator) == 1 and h.manager.refreshes == 1


def test_the_spent_refresh_token_is_dead_and_the_stored_one_lives(
    oauth_emulator: Emulator, settings: Settings, harness: Callable[..., Harness]
) -> None:
    first = store_issued_grant(oauth_emulator, settings)
    h = harness()
    h.clock.offset = 7200
    assert h.get().status_code == 200
    refused = oauth_client(settings).refresh
    with pytest.raises(Exception, match="invalid_grant"):
        refused(first.refresh_token)
    later = harness()  # another process: reads the store, spends the rotated token
    later.clock.offset = 2 * 7200
    oauth_emulator.clock.advance(7200)  # the server sees the hours pass too (one mint a minute)
    assert later.get().status_code == 200 and later.manager.refreshes == 1


def test_a_process_holding_a_revoked_access_token_takes_the_stored_one(
    oauth_emulator: Emulator, settings: Settings, harness: Callable[..., Harness]
) -> None:
    """The emulator revokes the access token a refresh replaces (Doorkeeper's way): a second
    process still holding it gets 401 and must take the stored token, not refresh again (a
    second mint within the minute would answer 429)."""
    store_issued_grant(oauth_emulator, settings)
    first, second = harness(), harness()
    assert first.get().status_code == 200 and second.get().status_code == 200
    first.clock.offset = 7200
    assert first.get().status_code == 200 and first.manager.refreshes == 1
    assert second.get().status_code == 200
    assert second.manager.refreshes == 0 and unauthorized(oauth_emulator) == 1
    grants = oauth_emulator.grants.summary()
    assert grants["access_revoked"] == 1 and grants["mint_limited"] == 0


def test_a_refresh_too_soon_after_the_last_mint_waits_and_keeps_the_grant(
    make_emulator: Callable[..., Emulator],
    store_location: Path | str,
    harness: Callable[..., Harness],
) -> None:
    emulator = make_emulator(token_mint_interval=2, rate_limit=10**9)
    settings = settings_from(emulator_env(emulator, store_location, REDIRECT_URI))
    store_issued_grant(emulator, settings)
    h = harness(settings)
    h.clock.offset = 7200
    assert h.get().status_code == 200  # the first mint
    h.clock.offset = 2 * 7200  # due again at once: the next mint is 429 with Retry-After
    started = time.monotonic()
    assert h.get().status_code == 200
    assert time.monotonic() - started >= 1
    grants = emulator.grants.summary()
    assert (grants["mint_limited"], grants["refreshes"], grants["refused"]) == (1, 2, 0)
    assert h.stored().reauthorization is None


def test_threads_due_at_once_refresh_once(
    oauth_emulator: Emulator, settings: Settings, harness: Callable[..., Harness]
) -> None:
    store_issued_grant(oauth_emulator, settings)
    h = harness()
    h.clock.offset = 7200
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(h.get().status_code)) for _ in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 12
    assert h.manager.refreshes == 1 and oauth_emulator.grants.summary()["refreshes"] == 1


def test_transient_token_failures_are_retried(
    oauth_emulator: Emulator, settings: Settings, harness: Callable[..., Harness]
) -> None:
    store_issued_grant(oauth_emulator, settings)
    oauth_emulator.faults.set(token_failures=[429, 503, 429])
    h = harness()
    h.clock.offset = 7200
    assert h.get().status_code == 200
    assert h.manager.refreshes == 1 and oauth_emulator.faults.settings.token_failures == []


def test_persistent_transient_failures_give_up_without_marking_the_grant(
    oauth_emulator: Emulator, settings: Settings, harness: Callable[..., Harness]
) -> None:
    store_issued_grant(oauth_emulator, settings)
    oauth_emulator.faults.set(token_failures=[503] * 10)
    h = harness()
    h.clock.offset = 7200
    with pytest.raises(TokenEndpointUnavailable, match=r"HTTP 503\) after 4 attempts"):
        h.get()
    assert h.stored().reauthorization is None


def test_an_early_refresh_that_fails_keeps_the_current_token_until_it_expires(
    oauth_emulator: Emulator, settings: Settings, harness: Callable[..., Harness]
) -> None:
    store_issued_grant(oauth_emulator, settings)
    oauth_emulator.faults.set(token_failures=[503] * 10)
    h = harness()
    h.clock.offset = 7200 - 200  # due for refresh, not yet expired
    assert h.get().status_code == 200
    assert h.manager.refreshes == 0
    h.clock.offset = 7200
    with pytest.raises(TokenEndpointUnavailable):
        h.get()


def test_token_endpoint_timeouts_are_retried_then_reported(
    oauth_emulator: Emulator, settings: Settings, harness: Callable[..., Harness]
) -> None:
    store_issued_grant(oauth_emulator, settings)
    oauth_emulator.faults.set(latency=0.3)
    h = harness(retry=replace(TOKEN_REQUESTS, attempts=2, initial_wait=0.01, attempt_timeout=0.1))
    h.clock.offset = 7200
    with pytest.raises(TokenEndpointUnavailable, match="ReadTimeout"):
        h.get()
    assert h.stored().reauthorization is None


def test_an_unreachable_token_endpoint_is_retried_then_reported(
    oauth_emulator: Emulator, env: dict[str, str], harness: Callable[..., Harness]
) -> None:
    settings = settings_from({**env, "OUTREACH_OAUTH_URL": "http://127.0.0.1:9/oauth"})
    store_issued_grant(oauth_emulator, settings)
    h = harness(settings=settings)
    h.clock.offset = 7200
    with pytest.raises(TokenEndpointUnavailable, match="ConnectError"):
        h.get()


def test_invalid_grant_marks_the_grant_and_is_not_retried(
    oauth_emulator: Emulator, settings: Settings, harness: Callable[..., Harness]
) -> None:
    store_issued_grant(oauth_emulator, settings)
    oauth_emulator.grants.revoke_all()
    h = harness()
    h.clock.offset = 7200
    with pytest.raises(ReauthorizationRequired, match="outreach-pipeline auth login") as raised:
        h.get()
    assert "invalid_grant" in raised.value.reason
    mark = h.stored().reauthorization
    assert mark is not None and "invalid_grant" in mark.reason and mark.since > 0
    token_requests = oauth_emulator.stats["requests"]["oauth"]
    assert token_requests == 1
    with pytest.raises(ReauthorizationRequired, match="invalid_grant"):
        harness().get()  # a new process: refuses from the store, asks nobody
    assert oauth_emulator.stats["requests"]["oauth"] == token_requests


def test_a_development_grant_past_its_weekly_expiry_needs_reauthorization(
    oauth_emulator: Emulator, settings: Settings, harness: Callable[..., Harness]
) -> None:
    store_issued_grant(oauth_emulator, settings, kind="development")
    h = harness()
    assert h.get().status_code == 200
    oauth_emulator.grants.expire_development()
    with pytest.raises(ReauthorizationRequired, match="invalid_grant"):
        h.get()
    assert h.stored().reauthorization is not None
    assert h.stored().credential_kind == "development"


def test_a_401_right_after_a_fresh_refresh_marks_the_grant(
    oauth_emulator: Emulator, settings: Settings, harness: Callable[..., Harness]
) -> None:
    """The token endpoint (real) refreshes, but the API (mocked) refuses every token."""
    store_issued_grant(oauth_emulator, settings)
    h = harness(transport=httpx.MockTransport(lambda request: httpx.Response(401)))
    with pytest.raises(ReauthorizationRequired, match="freshly refreshed"):
        h.get()
    assert h.manager.refreshes == 1
    mark = h.stored().reauthorization
    assert mark is not None and "401" in mark.reason


def test_no_stored_grant_asks_for_a_login(
    settings: Settings, harness: Callable[..., Harness]
) -> None:
    with pytest.raises(ReauthorizationRequired, match="no Outreach grant is stored"):
        harness().get()
