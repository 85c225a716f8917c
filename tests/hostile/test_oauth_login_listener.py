"""Issue 15, item 15: the login's redirect listener is not held up by idle connections (the
``--timeout`` holds), and the browser is told the truth: success only once the code exchange
succeeded and the grant is stored, otherwise why not, with the redirect's text escaped."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from outreach_pipeline.auth.errors import AuthError
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.login import login
from outreach_pipeline.auth.token_store import FileTokenStore
from tests.auth.auth_support import free_port
from tests.hostile.oauth_support import (
    environment,
    settings_for,
    token_answer,
    with_consent_page,
)
from tests.hostile.server import HostileServer, Reply, Seen, json_reply


@dataclass
class Login:
    """``login`` running in a thread against a hostile token endpoint."""

    env: dict[str, str]
    timeout: float
    shown: list[str] = field(default_factory=list)
    grant: Grant | None = None
    error: BaseException | None = None
    thread: threading.Thread | None = None

    @property
    def redirect_uri(self) -> str:
        return self.env["OUTREACH_REDIRECT_URI"]

    def start(self) -> Login:
        def run() -> None:
            try:
                self.grant = login(
                    settings_for(self.env),
                    None,
                    ["prospects.read"],
                    self.shown.append,
                    None,
                    None,  # type: ignore[arg-type]  # the listener never reads stdin
                    self.timeout,
                )
            except BaseException as error:
                self.error = error

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not any("Waiting for the redirect" in text for text in self.shown):
            assert self.error is None, f"the login failed before listening: {self.error}"
            assert time.monotonic() < deadline, "the listener never started"
            time.sleep(0.02)
        return self

    def state(self) -> str:
        url = next(line for t in self.shown for line in t.splitlines() if line.startswith("http"))
        return dict(parse_qsl(urlsplit(url).query))["state"]

    def browse(self, **params: str) -> str:
        """What the browser shows after following the redirect with ``params``."""
        return httpx.get(self.redirect_uri, params=params, timeout=30).text

    def finished_within(self, seconds: float) -> bool:
        assert self.thread is not None
        self.thread.join(seconds)
        return not self.thread.is_alive()


@pytest.fixture
def token_endpoint() -> Iterator[Callable[[Callable[[Seen], Reply]], HostileServer]]:
    servers: list[HostileServer] = []

    def start(answer: Callable[[Seen], Reply]) -> HostileServer:
        server = HostileServer(with_consent_page(answer)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _login(server: HostileServer, tmp_path: Path, timeout: float = 20) -> Login:
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    env = environment(server.url, tmp_path, OUTREACH_REDIRECT_URI=redirect)
    return Login(env, timeout).start()


def _idle_connection(url: str) -> socket.socket:
    parts = urlsplit(url)
    connection = socket.create_connection((parts.hostname, parts.port))
    time.sleep(0.3)  # accepted before anything else arrives
    return connection


def test_an_idle_connection_does_not_hold_up_the_redirect(
    token_endpoint: Callable[..., HostileServer], tmp_path: Path
) -> None:
    running = _login(token_endpoint(lambda s: token_answer()), tmp_path)
    with _idle_connection(running.redirect_uri):
        started = time.monotonic()
        page = running.browse(code="the-code", state=running.state())
        assert running.finished_within(10), "the login is stuck behind an idle connection"
    assert time.monotonic() - started < 5
    assert running.error is None and running.grant is not None
    assert "Authorization complete" in page


def test_the_timeout_holds_with_an_idle_connection(
    token_endpoint: Callable[..., HostileServer], tmp_path: Path
) -> None:
    running = _login(token_endpoint(lambda s: token_answer()), tmp_path, timeout=2)
    with _idle_connection(running.redirect_uri):
        assert running.finished_within(6), "a 2 s --timeout did not end the login"
    assert isinstance(running.error, AuthError) and "within 2 s" in str(running.error)


def test_success_is_shown_only_once_the_grant_is_stored(
    token_endpoint: Callable[..., HostileServer], tmp_path: Path
) -> None:
    exchange_started = threading.Event()

    def slow_answer(seen: Seen) -> Reply:
        exchange_started.set()
        time.sleep(1)
        return token_answer()

    running = _login(token_endpoint(slow_answer), tmp_path)
    page = running.browse(code="the-code", state=running.state())
    assert exchange_started.is_set()
    stored = FileTokenStore(Path(running.env["OUTREACH_TOKEN_STORE"])).load()
    assert stored is not None, "the browser was told of success before the grant was stored"
    assert "Authorization complete" in page
    assert running.finished_within(5) and running.grant == stored


FAILURES: dict[str, tuple[Callable[[Seen], Reply], dict[str, str], str]] = {
    "a wrong state": (lambda s: token_answer(), {"code": "c", "state": "production.x"}, "state"),
    "a denial": (lambda s: token_answer(), {"error": "access_denied"}, "access_denied"),
    "a refused exchange": (
        lambda s: json_reply({"error": "invalid_grant", "error_description": "bad code"}, 400),
        {"code": "c"},
        "the code exchange was refused (invalid_grant: bad code)",
    ),
    "an exchange answered with HTML": (
        lambda s: Reply(200, b"<html>portal</html>", content_type="text/html"),
        {"code": "c"},
        "without a JSON token",
    ),
    "an exchange failing for good": (
        lambda s: Reply(503, b"down", headers={"Retry-After": "0"}),
        {"code": "c"},
        "kept failing (HTTP 503)",
    ),
}


@pytest.mark.parametrize("case", FAILURES, ids=list(FAILURES))
def test_the_browser_is_told_why_the_login_failed(
    case: str, token_endpoint: Callable[..., HostileServer], tmp_path: Path
) -> None:
    answer, params, reason = FAILURES[case]
    running = _login(token_endpoint(answer), tmp_path)
    page = running.browse(**{"state": running.state(), **params})
    assert running.finished_within(5)
    assert isinstance(running.error, AuthError) and reason in str(running.error)
    assert "Authorization failed" in page and reason in page, page
    assert "complete" not in page and "received" not in page
    assert not Path(running.env["OUTREACH_TOKEN_STORE"]).exists()


def test_text_from_the_redirect_is_escaped_in_the_page(
    token_endpoint: Callable[..., HostileServer], tmp_path: Path
) -> None:
    running = _login(token_endpoint(lambda s: token_answer()), tmp_path)
    script = "<script>alert(document.cookie)</script>"
    page = running.browse(state=running.state(), error=script, error_description='"><img src=x>')
    assert running.finished_within(5)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in page
