"""Issue 16, section 3: what cannot work stops at once, in one line naming what is wrong.

An API host that refuses connections (or has no address) or answers 404 before any page ends
a full ``sync`` in seconds, naming OUTREACH_API_URL; malformed URLs in any OUTREACH_*_URL /
_URI setting and a bad ``emulator --port`` are one line and exit 2, never a traceback; ``auth
login`` names an unreachable authorize page or an unknown client at once instead of waiting
out its ``--timeout``."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from outreach_pipeline.catalog import default_streams, select
from tests.hostile.oauth_support import cli, environment, stored_grant, sync_runs
from tests.hostile.server import HostileServer, Reply, Seen, json_reply
from tests.reliability.cli_runs import start_cli

# A full sync against an API that cannot answer ends within this.
FAIL_WITHIN = 10.0


def _free_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize(
    "api_url",
    [f"http://127.0.0.1:{_free_port()}/api/v2", "http://no-such-host.invalid/api/v2"],
    ids=["connection refused", "no such host"],
)
def test_an_unreachable_api_ends_a_full_sync_in_seconds(tmp_path: Path, api_url: str):
    env = environment("http://127.0.0.1:9", tmp_path, OUTREACH_API_URL=api_url)
    stored_grant(env, expired=False)  # no token request: the API is the first thing asked
    started = time.monotonic()
    result = cli(env, "sync")
    took = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    assert took < FAIL_WITHIN, f"took {took:.1f} s"
    line = _one_line(result.stderr)
    assert f"OUTREACH_API_URL={api_url}" in line and "is the URL right" in line, line
    # The run is on record, a failed row per stream.
    rows = sync_runs(env)
    assert sorted(r[0] for r in rows) == sorted(s.path for s in default_streams())
    assert all(r[1] and "OUTREACH_API_URL" in r[1] for r in rows), rows


def _not_found(seen: Seen) -> Reply:
    return json_reply(
        {"errors": [{"id": "resourceNotFound", "title": "Not Found", "detail": "No route"}]}, 404
    )


def test_an_api_url_without_api_v2_names_the_setting(tmp_path: Path):
    with HostileServer(_not_found) as server:
        env = environment(server.url, tmp_path, OUTREACH_API_URL=server.url)
        stored_grant(env, expired=False)
        result = cli(env, "sync", "--streams", "prospects,accounts")
    assert result.returncode == 2, result.stderr
    line = _one_line(result.stderr)
    assert f"OUTREACH_API_URL={server.url} answered 404 for /prospects" in line, line
    assert "usually ends in /api/v2" in line and "b'" not in line, line


BAD_URLS = ["http://[::1/api", "http://127.0.0.1:abc/api/v2", "http://127.0.0.1:70000/api/v2"]


def test_malformed_urls_are_one_line_in_every_command(tmp_path: Path):
    runs = {
        (variable, value, command): start_cli(
            command.split(),
            environment("http://127.0.0.1:9", tmp_path, **{variable: value}),
            tmp_path,
        )
        for variable in ("OUTREACH_API_URL", "OUTREACH_OAUTH_URL", "OUTREACH_REDIRECT_URI")
        for value in BAD_URLS
        for command in ("sync", "auth status")
    }
    for (variable, value, command), process in runs.items():
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 2, (variable, value, command, err)
        line = _one_line(err)
        assert variable in line, (command, line)


@pytest.mark.parametrize("port", ["70000", "abc", "-1"])
def test_a_bad_emulator_port_is_one_line(tmp_path: Path, port: str):
    process = start_cli(["emulator", f"--port={port}"], {}, tmp_path)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 2, err
    assert "--port" in _one_line(err)


def test_streams_are_named_by_api_path_or_table_name():
    chosen = select("sequence_states,sequenceStates,email_addresses")
    assert [s.path for s in chosen] == ["sequenceStates", "emailAddresses"]


def _unknown_client(seen: Seen) -> Reply:
    return Reply(
        400,
        b"<html><head><title>Unknown client</title></head><body><h1>Unknown client</h1>"
        b"<p>The client_id is not a registered application.</p></body></html>",
        content_type="text/html",
    )


def _login(env: dict[str, str]) -> tuple[int, str, float]:
    env = {**env, "OUTREACH_REDIRECT_URI": f"http://127.0.0.1:{_free_port()}/callback"}
    started = time.monotonic()
    result = cli(env, "auth", "login", "--no-browser", "--timeout", "300")
    return result.returncode, result.stderr, time.monotonic() - started


def test_auth_login_names_an_unknown_client_at_once(tmp_path: Path):
    with HostileServer(_unknown_client) as server:
        code, err, took = _login(environment(server.url, tmp_path))
    assert code == 2 and took < FAIL_WITHIN, (took, err)
    line = _one_line(err)
    assert "HTTP 400 (Unknown client" in line and "OUTREACH_CLIENT_ID" in line, line
    assert "OUTREACH_REDIRECT_URI" in line  # the other thing the authorize page checks


def test_auth_login_names_an_unreachable_oauth_server_at_once(tmp_path: Path):
    oauth_url = f"http://127.0.0.1:{_free_port()}/oauth"
    env = environment("http://127.0.0.1:9", tmp_path, OUTREACH_OAUTH_URL=oauth_url)
    code, err, took = _login(env)
    assert code == 2 and took < FAIL_WITHIN, (took, err)
    line = _one_line(err)
    assert f"OUTREACH_OAUTH_URL={oauth_url}" in line and "Connection refused" in line, line
