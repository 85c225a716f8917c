"""The browser authorization (``auth login``): authorize URL, redirect, state check, exchange.

``state`` is ``<credential kind>.<random>``: the random part guards against a forged redirect
(CSRF), the kind says which credential pair started the flow, so the code is exchanged with
that pair. With a loopback redirect URI a one-shot HTTP listener receives the redirect;
otherwise the user pastes the URL the browser was sent to.
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TextIO, cast, get_args
from urllib.parse import parse_qs, urlsplit

from outreach_pipeline.auth.build import oauth_client
from outreach_pipeline.auth.errors import AuthorizationFailed
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.identity import identify
from outreach_pipeline.auth.oauth import TokenRequestRefused
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.settings import CredentialKind, Secret, Settings

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_LOGIN_TIMEOUT = 300.0
_DONE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Outreach authorization</title></head><body>"
    b"<p>Authorization received. You can close this window.</p></body></html>"
)


def new_state(kind: CredentialKind) -> str:
    return f"{kind}.{secrets.token_urlsafe(24)}"


def kind_of_state(state: str) -> CredentialKind:
    kind = state.partition(".")[0]
    if kind not in get_args(CredentialKind):
        raise AuthorizationFailed("the redirect's state does not name a credential kind")
    return cast(CredentialKind, kind)


def is_loopback(redirect_uri: str) -> bool:
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


class RedirectListener:
    """Listens on a loopback redirect URI until one request arrives at its path."""

    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        self.redirect_uri = redirect_uri
        self.path = parts.path or "/"
        received: dict[str, str] = {}
        self.received = received
        expected_path = self.path

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != expected_path:
                    self.send_error(404)
                    return
                query = parse_qs(url.query, keep_blank_values=True)
                received.update({key: values[0] for key, values in query.items()})
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(_DONE_PAGE)))
                self.end_headers()
                self.wfile.write(_DONE_PAGE)

            def log_message(self, format: str, *args: object) -> None:
                """Silent: the request line carries the authorization code."""

        host = "127.0.0.1" if parts.hostname == "localhost" else (parts.hostname or "127.0.0.1")
        server_class = _IPv6HTTPServer if ":" in host else HTTPServer
        try:
            self.server = server_class((host, parts.port or 80), Handler)
        except OSError as error:
            raise AuthorizationFailed(
                f"cannot listen on {host}:{parts.port} for the redirect ({error.strerror})"
            ) from None

    def wait(self, timeout: float) -> dict[str, str]:
        """The redirect's query parameters; :class:`AuthorizationFailed` after ``timeout``."""
        deadline = time.monotonic() + timeout
        try:
            while not self.received:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AuthorizationFailed(
                        f"no authorization arrived within {timeout:.0f} s at {self.redirect_uri}; "
                        "if the browser showed an error about the redirect URI, set "
                        "OUTREACH_REDIRECT_URI to the app's registered one, port included. "
                        "Run the command again"
                    )
                self.server.timeout = min(left, 1.0)
                self.server.handle_request()
            return dict(self.received)
        finally:
            self.server.server_close()


class _IPv6HTTPServer(HTTPServer):
    address_family = socket.AF_INET6


def read_pasted_redirect(stdin: TextIO) -> dict[str, str]:
    line = stdin.readline().strip()
    if not line:
        raise AuthorizationFailed("no redirected URL was pasted")
    query = parse_qs(urlsplit(line).query, keep_blank_values=True)
    return {key: values[0] for key, values in query.items()}


def check_redirect(params: dict[str, str], state: str) -> tuple[CredentialKind, Secret]:
    """(credential kind, code) from the redirect, after the state check."""
    if params.get("state") != state:
        raise AuthorizationFailed(
            "the redirect's state does not match the one this login sent: the redirect belongs "
            "to another login attempt or was forged; nothing was stored. Run the command again."
        )
    if "error" in params:
        raise AuthorizationFailed(f"Outreach did not authorize: {params['error']}")
    code = params.get("code")
    if not code:
        raise AuthorizationFailed("the redirect carries no authorization code")
    return kind_of_state(state), Secret(code)


def login(
    settings: Settings,
    kind: CredentialKind | None,
    scopes: list[str],
    show: Callable[[str], None],
    open_browser: Callable[[str], object] | None,
    stdin: TextIO,
    timeout: float = DEFAULT_LOGIN_TIMEOUT,
) -> Grant:
    """Authorize in the browser and store the grant; returns it.

    ``show`` prints instructions and the URL (always); ``open_browser`` (None: don't) opens it.
    """
    start_kind = settings.credentials_for(kind).kind
    state = new_state(start_kind)
    url = oauth_client(settings, start_kind).authorize_url(scopes, state)
    listener = (
        RedirectListener(settings.redirect_uri) if is_loopback(settings.redirect_uri) else None
    )
    show(f"Open this URL to authorize ({start_kind} credentials):\n{url}")
    if open_browser is not None:
        open_browser(url)
    if listener is not None:
        show(f"Waiting for the redirect to {settings.redirect_uri} ...")
        params = listener.wait(timeout)
    else:
        show("Paste the URL your browser was redirected to, then press Enter:")
        params = read_pasted_redirect(stdin)
    exchange_kind, code = check_redirect(params, state)
    try:
        response = oauth_client(settings, exchange_kind).exchange_code(code)
    except TokenRequestRefused as refusal:
        raise AuthorizationFailed(f"the code exchange was refused ({refusal})") from None
    grant = Grant.from_token_response(response, exchange_kind, time.time())
    user_id, email = identify(settings.api_url, grant.access_token)
    grant = replace(grant, user_id=user_id, user_email=email)
    store = open_token_store(settings)
    with store.lock():
        store.save(grant)
    return grant
