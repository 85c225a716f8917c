"""`auth login` end to end over real HTTP against the emulator: browser, --no-browser, paste."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from outreach_emulator import Emulator
from outreach_pipeline.auth import AuthorizationFailed, build_auth
from outreach_pipeline.auth.login import (
    RedirectListener,
    is_loopback,
    kind_of_state,
    login,
    new_state,
)
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.settings import Settings
from tests.auth.auth_support import PASTE_REDIRECT_URI, SCOPES, settings_from

ROOT = Path(__file__).resolve().parents[2]


def browser(rewrite: Callable[[str], str] = lambda url: url) -> Callable[[str], None]:
    """Opens the URL the way a browser would: in the background, following redirects."""

    def open_url(url: str) -> None:
        threading.Thread(
            target=httpx.get, args=(rewrite(url),), kwargs={"follow_redirects": True}, daemon=True
        ).start()

    return open_url


def with_state(url: str, state: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    return urlunsplit(parts._replace(query=urlencode({**query, "state": state})))


def shown_url(shown: list[str]) -> str:
    """The authorize URL among what the login showed."""
    return next(line for text in shown for line in text.splitlines() if line.startswith("http"))


def run_login(settings: Settings, **overrides: object) -> object:
    arguments: dict[str, object] = {
        "kind": None,
        "scopes": SCOPES,
        "show": lambda text: None,
        "open_browser": browser(),
        "stdin": io.StringIO(),
        "timeout": 10,
        **overrides,
    }
    return login(settings, **arguments)  # type: ignore[arg-type]


def test_login_in_the_browser_stores_a_working_grant(
    oauth_emulator: Emulator, settings: Settings
) -> None:
    shown: list[str] = []
    grant = run_login(settings, show=shown.append)
    stored = open_token_store(settings).load()
    assert stored == grant and stored is not None
    assert stored.credential_kind == "production" and stored.scopes == tuple(SCOPES)
    user = oauth_emulator.data.resource("users", 1)["attributes"]
    assert (stored.user_id, stored.user_email) == (1, user["email"])  # from the JWT's sub
    url = shown_url(shown)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["scope"] == "prospects.read users.read" and "%20" in url
    assert query["state"].startswith("production.")
    with httpx.Client(auth=build_auth(settings)) as client:
        assert client.get(f"{settings.api_url}/users").status_code == 200


def test_development_credentials_start_and_finish_the_flow(
    oauth_emulator: Emulator, settings: Settings
) -> None:
    """The development pair's secret holds ``+&=/%?#;`` and a non-ASCII letter."""
    grant = run_login(settings, kind="development")
    assert grant.credential_kind == "development"  # type: ignore[attr-defined]
    assert oauth_emulator.grants.summary()["code_exchanges"] == 1
    with httpx.Client(auth=build_auth(settings)) as client:
        assert client.get(f"{settings.api_url}/prospects").status_code == 200


def test_a_client_secret_with_url_unsafe_characters_is_form_encoded(
    make_emulator: Callable[..., Emulator], env: dict[str, str], redirect_uri: str
) -> None:
    secret = "a+b&c=d/e%f%2Bg h"
    emulator = make_emulator(client_secret=secret, redirect_uris=(redirect_uri,))
    settings = settings_from(
        {
            **env,
            "OUTREACH_OAUTH_URL": emulator.oauth_url,
            "OUTREACH_API_URL": emulator.api_url,
            "OUTREACH_CLIENT_SECRET": secret,
        }
    )
    run_login(settings)
    assert emulator.grants.summary()["code_exchanges"] == 1


def test_a_state_mismatch_is_refused_and_nothing_is_stored(
    oauth_emulator: Emulator, settings: Settings
) -> None:
    forged = browser(lambda url: with_state(url, "production.forged"))
    with pytest.raises(AuthorizationFailed, match="state does not match"):
        run_login(settings, open_browser=forged)
    assert open_token_store(settings).load() is None
    assert oauth_emulator.grants.summary()["code_exchanges"] == 0


class PastingStdin(io.StringIO):
    """Stands in for a person: visits the shown URL and pastes where the browser ended up."""

    def __init__(self, shown: list[str], rewrite: Callable[[str], str] = lambda u: u) -> None:
        super().__init__()
        self.shown = shown
        self.rewrite = rewrite

    def readline(self, size: int | None = -1) -> str:
        redirected = httpx.get(shown_url(self.shown)).headers["location"]
        return self.rewrite(redirected) + "\n"


def test_a_non_loopback_redirect_is_pasted(oauth_emulator: Emulator, env: dict[str, str]) -> None:
    settings = settings_from({**env, "OUTREACH_REDIRECT_URI": PASTE_REDIRECT_URI})
    shown: list[str] = []
    grant = run_login(settings, show=shown.append, stdin=PastingStdin(shown), open_browser=None)
    assert open_token_store(settings).load() == grant
    assert any("Paste the URL" in text for text in shown)


def test_a_refusal_on_the_consent_page_is_reported(
    oauth_emulator: Emulator, env: dict[str, str]
) -> None:
    settings = settings_from({**env, "OUTREACH_REDIRECT_URI": PASTE_REDIRECT_URI})
    shown: list[str] = []

    def denied(redirected: str) -> str:
        state = dict(parse_qsl(urlsplit(redirected).query))["state"]
        return f"{PASTE_REDIRECT_URI}?{urlencode({'error': 'access_denied', 'state': state})}"

    with pytest.raises(AuthorizationFailed, match="access_denied"):
        run_login(settings, show=shown.append, stdin=PastingStdin(shown, denied), open_browser=None)


def test_the_command_without_a_browser_completes_when_the_url_is_opened(
    oauth_emulator: Emulator, env: dict[str, str], settings: Settings
) -> None:
    command = [sys.executable, "-m", "outreach_pipeline.cli", "auth", "login", "--no-browser"]
    process = subprocess.Popen(
        [*command, "--streams", "prospects,accounts", "--timeout", "30"],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = ""
    while not url:
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else ""
        url = line.strip() if line.startswith("http") else ""
    assert httpx.get(url, follow_redirects=True).status_code == 200
    output, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert "Authorized (production credentials)" in output
    stored = open_token_store(settings).load()
    assert stored is not None
    assert stored.scopes == ("accounts.read", "prospects.read", "users.read")


def test_loopback_detection_and_state_kinds() -> None:
    assert is_loopback("http://127.0.0.1:8976/callback") and is_loopback("http://[::1]:1/cb")
    assert is_loopback("http://localhost:8976/callback")
    assert not is_loopback("https://127.0.0.1/callback") and not is_loopback(PASTE_REDIRECT_URI)
    assert kind_of_state(new_state("development")) == "development"
    with pytest.raises(AuthorizationFailed, match="credential kind"):
        kind_of_state("staging.abc")


def test_a_busy_redirect_port_is_a_clear_error(redirect_uri: str) -> None:
    first = RedirectListener(redirect_uri)
    try:
        with pytest.raises(AuthorizationFailed, match="cannot listen on"):
            RedirectListener(redirect_uri)
    finally:
        first.server.server_close()
