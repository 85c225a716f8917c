"""Issue 15, item 11: every auth failure ends `outreach-pipeline sync` as ONE line saying the
cause and what to do, exit code 2, no traceback, a failed row per stream in
``outreach.sync_runs``, the stored grant untouched (unless the server refused the grant), and no
token in any of it, whatever the token endpoint or the token store looks like."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

from outreach_pipeline.auth.errors import UnexpectedAuthFailure
from outreach_pipeline.auth.httpx_auth import BearerTokenAuth
from outreach_pipeline.auth.tokens import Renewal
from outreach_pipeline.settings import Secret
from tests.hostile.oauth_support import (
    REFRESH_TOKEN,
    cli,
    environment,
    store_document,
    stored_grant,
    sync_runs,
    token_answer,
)
from tests.hostile.server import HostileServer, Reply, Seen, json_reply

STREAMS = ("--streams", "prospects,accounts")


def _html(seen: Seen) -> Reply:
    return Reply(200, b"<html><body>Sign in to continue</body></html>", content_type="text/html")


def _echoing_refusal(seen: Seen) -> Reply:
    echoed = seen.form().get("refresh_token", "")
    return json_reply(
        {"error": "invalid_grant", "error_description": f"refresh_token={echoed} is\nspent"}, 400
    )


def _echoing_error_page(seen: Seen) -> Reply:
    return Reply(500, seen.body, content_type="text/plain", headers={"Retry-After": "0"})


TOKEN_ENDPOINTS: dict[str, tuple[Callable[[Seen], Reply], str]] = {
    "500 forever": (lambda s: Reply(500, b"oops"), "kept failing (HTTP 500) after 5 attempts"),
    "429 forever": (
        lambda s: Reply(429, b"Retry later", headers={"Retry-After": "0"}),
        "kept failing (HTTP 429) after 5 attempts",
    ),
    "200 with HTML": (_html, "answered HTTP 200 without a JSON token (text/html)"),
    "403": (lambda s: Reply(403, b"Forbidden", content_type="text/html"), "got HTTP 403"),
    "302": (
        lambda s: Reply(302, b"", headers={"Location": "https://login.example.com/"}),
        "was redirected (HTTP 302)",
    ),
    "200 without an access token": (
        lambda s: token_answer(access_token=..., refresh_token=...),
        "without a usable token (no access token",
    ),
    "200 with a JSON list": (lambda s: json_reply([1, 2]), "without a JSON token"),
    "500 echoing the request": (_echoing_error_page, "kept failing (HTTP 500)"),
    "400 echoing the refresh token": (_echoing_refusal, "invalid_grant: refresh_token=***"),
}


def _assert_one_line_failure(
    result: subprocess.CompletedProcess[str], env: dict[str, str], expected: str, hint: str
) -> str:
    returncode, stderr = result.returncode, result.stderr
    assert returncode == 2, stderr
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    line = lines[0]
    assert line.startswith("outreach-pipeline sync: ") and expected in line, line
    assert hint in line, line
    assert REFRESH_TOKEN not in stderr and "client-secret" not in stderr
    rows = sync_runs(env)
    assert [r[0] for r in rows] == ["accounts", "prospects"], rows
    assert all(error is not None and expected in error for _, error, _ in rows), rows
    assert all(REFRESH_TOKEN not in (error or "") for _, error, _ in rows)
    return line


@pytest.mark.parametrize("case", TOKEN_ENDPOINTS, ids=list(TOKEN_ENDPOINTS))
def test_a_failing_token_endpoint_is_one_line_and_a_recorded_run(case: str, tmp_path: Path) -> None:
    answer, expected = TOKEN_ENDPOINTS[case]
    with HostileServer(lambda s: answer(s) if s.path == "/oauth/token" else Reply(404)) as server:
        env = environment(server.url, tmp_path)
        stored_grant(env)
        before = store_document(env)
        result = cli(env, "sync", *STREAMS)
        assert not server.requests_to("/api/"), "no stream may start without a token"
    refused = case.startswith("400")
    hint = "auth login" if refused else "the stored grant is kept"
    _assert_one_line_failure(result, env, expected, hint)
    after = store_document(env)
    if refused:
        reason = after["grant"]["reauthorization"]["reason"]
        assert REFRESH_TOKEN not in reason and "\n" not in reason
    else:
        assert after == before, "a failed refresh must not change the stored grant"


LOGIN = "run `outreach-pipeline auth login` to store a new one"
STORES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "truncated": (
        lambda p: p.write_text('{"format": 1, "grant": {"access_tok'),
        "is not a readable grant (JSONDecodeError)",
        LOGIN,
    ),
    "garbage bytes": (
        lambda p: p.write_bytes(b"\xff\xfe\x00garbage" + os.urandom(64)),
        "is not a readable grant",
        LOGIN,
    ),
    "a JSON string": (lambda p: p.write_text('"grant"'), "is not a readable grant", LOGIN),
    "wrong types": (
        lambda p: p.write_text('{"grant": {"access_token": 5, "refresh_token": []}}'),
        "is not a readable grant",
        LOGIN,
    ),
    "a directory": (lambda p: p.mkdir(), "is not a file", "OUTREACH_TOKEN_STORE"),
    "a FIFO": (lambda p: os.mkfifo(p), "is not a file", "OUTREACH_TOKEN_STORE"),
    "encrypted without a key": (
        lambda p: p.write_text('{"format": 1, "salt": "AAAA", "encrypted": 7}'),
        "is encrypted",
        "set OUTREACH_TOKEN_ENCRYPTION_KEY",
    ),
    "an encrypted envelope of the wrong shape": (
        lambda p: p.write_text('{"format": 1, "salt": 5, "encrypted": ["x"]}'),
        "is not a readable grant",
        LOGIN,
    ),
}


@pytest.mark.parametrize("case", STORES, ids=list(STORES))
def test_a_broken_token_store_is_one_line_and_a_recorded_run(case: str, tmp_path: Path) -> None:
    breaks, expected, hint = STORES[case]
    with HostileServer(lambda s: Reply(500)) as server:
        extra = {"OUTREACH_TOKEN_ENCRYPTION_KEY": "a passphrase"} if "shape" in case else {}
        env = environment(server.url, tmp_path, **extra)
        store = Path(env["OUTREACH_TOKEN_STORE"])
        breaks(store)
        if store.is_file():
            store.chmod(0o600)
        result = cli(env, "sync", *STREAMS, timeout=60)
        assert not server.seen
    _assert_one_line_failure(result, env, expected, hint)


def test_a_grant_of_credentials_no_longer_configured_is_one_line(tmp_path: Path) -> None:
    """The stored grant is a development one, but OUTREACH_DEV_* are gone: a settings problem
    met inside the auth layer is reported like any auth failure."""
    with HostileServer(lambda s: Reply(500)) as server:
        env = environment(server.url, tmp_path)
        stored_grant(env, credential_kind="development")
        result = cli(env, "sync", *STREAMS)
    _assert_one_line_failure(result, env, "OUTREACH_DEV_CLIENT_ID", "not set")


def test_a_retry_after_of_an_hour_stops_the_sync_at_once_saying_when(tmp_path: Path) -> None:
    answer = Reply(429, b"Retry later", headers={"Retry-After": "3600"})
    with HostileServer(lambda s: answer) as server:
        env = environment(server.url, tmp_path)
        stored_grant(env)
        result = cli(env, "sync", *STREAMS)
        assert len(server.requests_to("/oauth/token")) == 1
    line = _assert_one_line_failure(result, env, "asked to wait 3600 s", "try again after 20")
    assert line.endswith(" UTC"), line


def test_a_token_endpoint_failing_mid_sync_is_one_line(tmp_path: Path) -> None:
    """The grant's token is current, the API says 401, the refresh gets an HTML page: the
    failure leaves the auth flow inside a stream's request as one line, not a traceback. (The
    stream's run row for failures inside a stream is sync_stream's business.)"""

    def answer(seen: Seen) -> Reply:
        if seen.path == "/oauth/token":
            return _html(seen)
        return json_reply({"errors": [{"id": "unauthorized"}]}, 401)

    with HostileServer(answer) as server:
        env = environment(server.url, tmp_path)
        stored_grant(env, expired=False)
        before = store_document(env)
        result = cli(env, "sync", "--streams", "prospects")
        assert server.requests_to("/api/") and server.requests_to("/oauth/token")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "without a JSON token (text/html)" in lines[0], result.stderr
    assert store_document(env) == before


class _BrokenTokens:
    """A token source failing in a way nobody planned for, its message holding a token."""

    def current(self) -> Secret:
        raise KeyError(f"access_token={REFRESH_TOKEN}")

    def renew(self, rejected: Secret, force: bool) -> Renewal:
        raise AssertionError("not reached")

    def refused_after_renewal(self) -> NoReturn:
        raise AssertionError("not reached")


def test_an_unplanned_failure_of_the_token_source_is_an_auth_error() -> None:
    with HostileServer(lambda s: Reply(200, b"{}")) as server:
        client = httpx.Client(auth=BearerTokenAuth(_BrokenTokens()))
        with client, pytest.raises(UnexpectedAuthFailure) as raised:
            client.get(server.url)
        assert not server.seen
    message = str(raised.value)
    assert "failed unexpectedly (KeyError" in message and REFRESH_TOKEN not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
