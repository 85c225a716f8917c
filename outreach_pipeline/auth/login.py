"""The browser authorization (``auth login``): authorize URL, redirect, state check, exchange.

``state`` is ``<credential kind>.<random>``: the random part guards against a forged redirect
(CSRF), the kind says which credential pair started the flow, so the code is exchanged with
that pair. With a loopback redirect URI a listener receives the redirect; otherwise the user
pastes the URL the browser was sent to.

The listener serves each connection on its own thread with a socket timeout, so an idle or slow
connection cannot hold up the redirect or the ``--timeout``. It answers the browser only once
the login has finished: "authorized" after the code exchange succeeded and the grant was
stored, otherwise why not (a wrong state, the error Outreach sent, a failed exchange), with any
text from the redirect HTML-escaped.
"""

from __future__ import annotations

import html
import queue
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO, cast, get_args
from urllib.parse import parse_qs, urlsplit

from outreach_pipeline.auth.authorize_check import check_authorize_url
from outreach_pipeline.auth.build import oauth_client
from outreach_pipeline.auth.errors import (
    AuthError,
    AuthorizationFailed,
    TokenRequestRefused,
    outside_text,
)
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.identity import identify
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.settings import CredentialKind, Secret, Settings

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_LOGIN_TIMEOUT = 300.0
# Seconds a connection to the listener may sit idle before it is dropped.
CONNECTION_TIMEOUT = 10.0
# Seconds the browser's request waits for the login to finish with its redirect (the code
# exchange's own retries are bounded well below this).
VERDICT_TIMEOUT = 600.0
SUCCESS_MESSAGE = "Authorization complete: the grant is stored. You can close this window."


def result_page(message: str) -> bytes:
    """The page the browser shows at the end of the login; ``message`` is escaped here."""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Outreach authorization'
        f"</title></head><body><p>{html.escape(message)}</p></body></html>"
    ).encode()


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


@dataclass
class Redirect:
    """One redirect that reached the listener, waiting for the login's verdict on it."""

    params: dict[str, str]
    _page: bytes | None = None
    _answered: threading.Event = field(default_factory=threading.Event)

    def answer(self, message: str) -> None:
        self._page = result_page(message)
        self._answered.set()

    def page(self, timeout: float) -> bytes:
        if not self._answered.wait(timeout) or self._page is None:
            return result_page("The login did not finish; see the terminal.")
        return self._page


class RedirectListener:
    """Listens on a loopback redirect URI for requests to its path; see :meth:`wait`."""

    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        self.redirect_uri = redirect_uri
        self.path = parts.path or "/"
        arrivals: queue.Queue[Redirect] = queue.Queue()
        self.arrivals = arrivals
        expected_path = self.path

        class Handler(BaseHTTPRequestHandler):
            timeout = CONNECTION_TIMEOUT

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != expected_path:
                    self.send_error(404)
                    return
                query = parse_qs(url.query, keep_blank_values=True)
                redirect = Redirect({key: values[0] for key, values in query.items()})
                arrivals.put(redirect)
                page = redirect.page(VERDICT_TIMEOUT)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: object) -> None:
                """Silent: the request line carries the authorization code."""

        host = "127.0.0.1" if parts.hostname == "localhost" else (parts.hostname or "127.0.0.1")
        server_class = _IPv6Server if ":" in host else _Server
        try:
            self.server = server_class((host, parts.port or 80), Handler)
        except OSError as error:
            raise AuthorizationFailed(
                f"cannot listen on {host}:{parts.port} for the redirect ({error.strerror})"
            ) from None

    def wait(self, timeout: float, finish: Callable[[dict[str, str]], Grant]) -> Grant:
        """``finish(params)`` of the first redirect to arrive within ``timeout`` seconds, its
        verdict shown in the browser; :class:`AuthorizationFailed` when none arrives."""
        serving = threading.Thread(target=self.server.serve_forever, args=(0.2,), daemon=True)
        serving.start()
        try:
            try:
                redirect = self.arrivals.get(timeout=timeout)
            except queue.Empty:
                raise AuthorizationFailed(
                    f"no authorization arrived within {timeout:.0f} s at {self.redirect_uri}; "
                    "if the browser showed an error about the redirect URI, set "
                    "OUTREACH_REDIRECT_URI to the app's registered one, port included. "
                    "Run the command again"
                ) from None
            try:
                grant = finish(redirect.params)
            except AuthError as error:
                redirect.answer(f"Authorization failed: {error}")
                raise
            except BaseException:
                redirect.answer("Authorization failed; see the terminal.")
                raise
            redirect.answer(SUCCESS_MESSAGE)
            return grant
        finally:
            self.server.shutdown()
            self.close()

    def close(self) -> None:
        """Stop listening. Redirects still waiting for a verdict are told another one was
        taken; connections still open end by their own timeout."""
        self.server.server_close()
        while not self.arrivals.empty():
            self.arrivals.get_nowait().answer(
                "Ignored: this login already took another redirect; see the terminal."
            )


class _Server(ThreadingHTTPServer):
    """A thread per connection, none waited for on close (idle ones end by their timeout)."""

    daemon_threads = True
    block_on_close = False


class _IPv6Server(_Server):
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
        description = outside_text(params.get("error_description", ""))
        raise AuthorizationFailed(
            f"Outreach did not authorize: {outside_text(params['error'])}"
            + (f" ({description})" if description else "")
            + "; nothing was stored. Run the command again to retry"
        )
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
    An authorize page that cannot be reached, or refuses the client, fails at once
    (:func:`check_authorize_url`).
    """
    start_kind = settings.credentials_for(kind).kind
    state = new_state(start_kind)
    url = oauth_client(settings, start_kind).authorize_url(scopes, state)
    check_authorize_url(url, settings.oauth_url)

    def finish(params: dict[str, str]) -> Grant:
        return _store_grant(settings, *check_redirect(params, state))

    if not is_loopback(settings.redirect_uri):
        show(f"Open this URL to authorize ({start_kind} credentials):\n{url}")
        if open_browser is not None:
            open_browser(url)
        show("Paste the URL your browser was redirected to, then press Enter:")
        return finish(read_pasted_redirect(stdin))
    listener = RedirectListener(settings.redirect_uri)
    try:
        show(f"Open this URL to authorize ({start_kind} credentials):\n{url}")
        if open_browser is not None:
            open_browser(url)
        show(f"Waiting for the redirect to {settings.redirect_uri} ...")
    except BaseException:
        listener.close()
        raise
    return listener.wait(timeout, finish)


def _store_grant(settings: Settings, kind: CredentialKind, code: Secret) -> Grant:
    """Exchange ``code`` with the credentials of ``kind`` and store the grant."""
    try:
        response = oauth_client(settings, kind).exchange_code(code)
    except TokenRequestRefused as refusal:
        raise AuthorizationFailed(f"the code exchange was refused ({refusal})") from None
    grant = Grant.from_token_response(response, kind, time.time())
    user_id, email = identify(settings.api_url, grant.access_token)
    grant = replace(grant, user_id=user_id, user_email=email)
    store = open_token_store(settings)
    with store.lock():
        store.save(grant)
    return grant
