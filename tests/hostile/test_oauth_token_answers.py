"""Issue 15, items 13 and 14: token answers RFC 6749 allows (no ``expires_in``, no rotated
refresh token) work, absurd lifetimes are clamped, and an answer that cannot be used never
costs the stored grant. Driven by a hostile token endpoint, not the emulator."""

from __future__ import annotations

import base64
import io
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from outreach_pipeline.auth.build import oauth_client
from outreach_pipeline.auth.errors import AuthorizationFailed, UnexpectedTokenAnswer
from outreach_pipeline.auth.grant import (
    DEFAULT_TOKEN_LIFETIME,
    MAX_TOKEN_LIFETIME,
    MIN_TOKEN_LIFETIME,
)
from outreach_pipeline.auth.login import login
from outreach_pipeline.auth.token_manager import TokenManager
from outreach_pipeline.auth.token_store import FileTokenStore
from outreach_pipeline.settings import Secret, Settings
from tests.hostile.oauth_support import (
    PASTE_REDIRECT_URI,
    REFRESH_TOKEN,
    cli,
    environment,
    settings_for,
    store_document,
    stored_grant,
    token_answer,
    with_consent_page,
)
from tests.hostile.server import HostileServer, Reply, Seen


def _manager(settings: Settings) -> TokenManager:
    return TokenManager(
        FileTokenStore(settings.token_store_path), lambda kind: oauth_client(settings, kind)
    )


def _token_server(answers: Callable[[int], Reply]) -> HostileServer:
    """Answers the n-th token request (from 0) with ``answers(n)``."""
    count = [0]

    def answer(seen: Seen) -> Reply:
        if seen.path != "/oauth/token":
            return Reply(404)
        count[0] += 1
        return answers(count[0] - 1)

    return HostileServer(with_consent_page(answer))


def _spent_refresh_tokens(server: HostileServer) -> list[str]:
    return [s.form()["refresh_token"] for s in server.requests_to("/oauth/token")]


def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one(tmp_path: Path) -> None:
    with _token_server(lambda n: token_answer(refresh_token=..., expires_in=60)) as server:
        env = environment(server.url, tmp_path)
        stored_grant(env)
        manager = _manager(settings_for(env))
        first = manager.current()
        stored = manager.store.load()
        assert stored is not None and stored.refresh_token == Secret(REFRESH_TOKEN)
        assert first == stored.access_token
        manager.clock = lambda: time.time() + 3600  # the new token is due: refresh again
        manager.current()
        assert _spent_refresh_tokens(server) == [REFRESH_TOKEN, REFRESH_TOKEN]


def test_a_refresh_without_expires_in_assumes_two_hours(tmp_path: Path) -> None:
    with _token_server(lambda n: token_answer(expires_in=...)) as server:
        env = environment(server.url, tmp_path)
        stored_grant(env)
        manager = _manager(settings_for(env))
        before = time.time()
        manager.current()
        stored = manager.store.load()
    assert stored is not None and stored.refreshed_at is not None
    assert stored.access_expires_at - stored.refreshed_at == DEFAULT_TOKEN_LIFETIME
    assert stored.refresh_token == Secret("new-refresh-token-3a8f1b")
    assert stored.refreshed_at >= before


class _Pasting(io.StringIO):
    """Pastes the redirect a consenting browser would reach, with the login's own state."""

    def __init__(self, shown: list[str]) -> None:
        super().__init__()
        self.shown = shown

    def readline(self, size: int | None = -1) -> str:
        url = next(line for text in self.shown for line in text.splitlines() if "http" in line)
        state = dict(parse_qsl(urlsplit(url).query))["state"]
        return f"{PASTE_REDIRECT_URI}?code=the-code-123&state={state}\n"


def _login(settings: Settings) -> Any:
    shown: list[str] = []
    return login(settings, None, ["prospects.read"], shown.append, None, _Pasting(shown), 10)


def test_a_code_exchange_without_expires_in_logs_in(tmp_path: Path) -> None:
    with _token_server(lambda n: token_answer(expires_in=...)) as server:
        env = environment(server.url, tmp_path)
        grant = _login(settings_for(env))
    assert grant.access_expires_at - grant.granted_at == DEFAULT_TOKEN_LIFETIME
    assert FileTokenStore(Path(env["OUTREACH_TOKEN_STORE"])).load() == grant


def test_a_code_exchange_without_a_refresh_token_is_refused_clearly(tmp_path: Path) -> None:
    with _token_server(lambda n: token_answer(refresh_token=...)) as server:
        env = environment(server.url, tmp_path)
        with pytest.raises(UnexpectedTokenAnswer, match="no refresh token"):
            _login(settings_for(env))
    assert not Path(env["OUTREACH_TOKEN_STORE"]).exists()


UNUSABLE = {
    "no access token": {"access_token": ...},
    "an access token of the wrong type": {"access_token": {"jwt": "x"}},
    "an empty access token": {"access_token": ""},
    "an access token with a line break": {"access_token": "abc\r\nX-Injected: 1"},
    "a huge access token": {"access_token": "a" * 100_000},
    "a MAC token": {"token_type": "mac"},
    "a refresh token of the wrong type": {"refresh_token": 12345},
}


@pytest.mark.parametrize("case", UNUSABLE, ids=list(UNUSABLE))
def test_an_unusable_refresh_answer_costs_nothing_stored(case: str, tmp_path: Path) -> None:
    fields = {"refresh_token": ..., **UNUSABLE[case]}
    with _token_server(lambda n: token_answer(**fields)) as server:
        env = environment(server.url, tmp_path)
        stored_grant(env)
        before = store_document(env)
        with pytest.raises(UnexpectedTokenAnswer, match="the stored grant is kept"):
            _manager(settings_for(env)).current()
    assert store_document(env) == before


def test_an_unusable_answer_with_a_rotated_refresh_token_saves_that_token(tmp_path: Path) -> None:
    """The server spent the stored refresh token and rotated it, but its access token is
    unusable: keeping the spent token would lose the grant, so the new one is saved (and
    said so), and the next refresh uses it."""
    answers = [
        token_answer(access_token=..., refresh_token="rotated-refresh-token-9d"),
        token_answer(),
    ]
    with _token_server(lambda n: answers[n]) as server:
        env = environment(server.url, tmp_path)
        stored_grant(env)
        manager = _manager(settings_for(env))
        with pytest.raises(UnexpectedTokenAnswer, match="new refresh token was saved") as raised:
            manager.current()
        assert "rotated-refresh-token-9d" not in str(raised.value)
        stored = manager.store.load()
        assert stored is not None and stored.refresh_token == Secret("rotated-refresh-token-9d")
        assert stored.reauthorization is None
        assert manager.current() == Secret("new-access-token-7c2d9e")
        assert _spent_refresh_tokens(server) == [REFRESH_TOKEN, "rotated-refresh-token-9d"]


LIFETIMES: dict[str, tuple[object, float]] = {
    "zero": (0, MIN_TOKEN_LIFETIME),
    "negative": (-3600, MIN_TOKEN_LIFETIME),
    "the string inf": ("inf", DEFAULT_TOKEN_LIFETIME),
    "the string nan": ("nan", DEFAULT_TOKEN_LIFETIME),
    "1e12": (1e12, MAX_TOKEN_LIFETIME),
    "1e308": (1e308, MAX_TOKEN_LIFETIME),
    "a huge integer": (10**400, DEFAULT_TOKEN_LIFETIME),
    "a word": ("soon", DEFAULT_TOKEN_LIFETIME),
    "true": (True, DEFAULT_TOKEN_LIFETIME),
    "a numeric string": ("3600", 3600.0),
}


@pytest.mark.parametrize("case", LIFETIMES, ids=list(LIFETIMES))
def test_absurd_lifetimes_are_clamped_and_auth_status_shows_them(
    case: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    value, lifetime = LIFETIMES[case]
    raw = json.dumps({**json.loads(token_answer().body), "expires_in": value})  # type: ignore[arg-type]
    answer = Reply(200, raw.encode(), content_type="application/json")
    with _token_server(lambda n: answer) as server, caplog.at_level(logging.WARNING):
        env = environment(server.url, tmp_path)
        stored_grant(env)
        manager = _manager(settings_for(env))
        for _ in range(5):
            manager.current()
        refreshes = len(server.requests_to("/oauth/token"))
    stored = manager.store.load()
    assert stored is not None and stored.refreshed_at is not None
    assert stored.access_expires_at - stored.refreshed_at == lifetime
    assert refreshes == 1, "a short lifetime must not refresh before every request"
    if lifetime != value and value != "3600":
        assert "expires_in" in caplog.text
    status = cli(env, "auth", "status")
    assert status.returncode == 0 and "Traceback" not in status.stderr, status.stderr
    assert "Access token expires: " in status.stdout


STORED_EXPIRIES = ["Infinity", "NaN", "1e308", "-1e308", '"inf"', '"soon"', "null", "1e400"]


@pytest.mark.parametrize("value", STORED_EXPIRIES)
def test_a_stored_grant_with_an_absurd_expiry_loads(value: str, tmp_path: Path) -> None:
    """Grants stored before the clamping (or edited) hold such values: `auth status` shows
    them and a sync refreshes the token instead of crashing."""
    with _token_server(lambda n: token_answer()) as server:
        env = environment(server.url, tmp_path)
        stored_grant(env)
        store = Path(env["OUTREACH_TOKEN_STORE"])
        text = store.read_text()
        document = json.loads(text)
        number = json.dumps(document["grant"]["access_expires_at"])
        store.write_text(text.replace(number, value, 1))
        status = cli(env, "auth", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert "Traceback" not in status.stderr and "Access token expires: " in status.stdout
        _manager(settings_for(env)).current()


def test_a_denied_consent_is_reported_without_the_servers_markup(tmp_path: Path) -> None:
    class Denied(_Pasting):
        def readline(self, size: int | None = -1) -> str:
            state = dict(parse_qsl(urlsplit(super().readline()).query))["state"]
            return f"{PASTE_REDIRECT_URI}?error=access_denied%1b%5b2J%0aforged&state={state}\n"

    with _token_server(lambda n: token_answer()) as server:
        env = environment(server.url, tmp_path)
        shown: list[str] = []
        with pytest.raises(AuthorizationFailed) as raised:
            login(settings_for(env), None, ["prospects.read"], shown.append, None, Denied(shown))
    message = str(raised.value)
    assert "access_denied" in message and "\x1b" not in message and "\n" not in message


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{part(b'{}')}.{part(json.dumps(claims).encode())}.{part(b'signature')}"


IDENTITIES: dict[str, tuple[dict[str, Any], Any, tuple[int | None, str | None]]] = {
    "attributes that are a list": ({"sub": "7"}, ["x"], (7, None)),
    "an email that is an object": ({"sub": "7", "email": {"a": 1}}, {"email": 5}, (7, None)),
    "a user id of 5000 digits": ({"sub": "9" * 5000}, {}, (None, None)),
    "an email with terminal escapes": (
        {"sub": "7", "email": "evil\x1b[2J\n@example.com"},
        {},
        (7, "evil [2J @example.com"),
    ),
}


@pytest.mark.parametrize("case", IDENTITIES, ids=list(IDENTITIES))
def test_a_hostile_identity_does_not_break_the_login_or_the_store(
    case: str, tmp_path: Path
) -> None:
    claims, attributes, expected = IDENTITIES[case]

    def answer(seen: Seen) -> Reply:
        if seen.path == "/oauth/token":
            return token_answer(access_token=_jwt(claims))
        return Reply(200, json.dumps({"data": {"attributes": attributes}}).encode())

    with HostileServer(answer) as server:
        env = environment(server.url, tmp_path)
        grant = _login(settings_for(env))
        assert (grant.user_id, grant.user_email) == expected
        status = cli(env, "auth", "status")
    assert status.returncode == 0 and "Traceback" not in status.stderr, status.stderr
    assert "\x1b" not in status.stdout
