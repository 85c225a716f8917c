"""The admin endpoints and the ``outreach-pipeline emulator`` command in its own process."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from outreach_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from outreach_emulator.faults import PROFILES
from tests.emulator.support import api_client, authorization_code, exchange, refresh

LISTENING = re.compile(r"Outreach emulator listening on (http://127\.0\.0\.1:\d+) \(api: (\S+),")


@pytest.fixture
def admin(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url + "/_emulator", timeout=10) as client:
        yield client


def test_clock_endpoints(emulator: Emulator, admin: httpx.Client) -> None:
    before = admin.get("/clock").json()["now"]
    after = admin.post("/clock", json={"advance": 3600}).json()["now"]
    assert after - before >= 3600
    frozen = admin.post("/clock", json={"set": 2_000_000_000, "freeze": True}).json()
    assert frozen == {"now": 2_000_000_000, "iso": "2033-05-18T03:33:20.000Z", "frozen": True}
    assert emulator.clock.now() == 2_000_000_000


def test_record_endpoints(emulator: Emulator, admin: httpx.Client) -> None:
    created = admin.post(
        "/records/accounts", json={"attributes": {"name": "Admin Co"}, "relationships": {}}
    )
    assert created.status_code == 201
    new_id = created.json()["data"]["id"]
    patched = admin.patch(f"/records/accounts/{new_id}", json={"attributes": {"name": "B"}})
    assert patched.json()["data"]["attributes"]["name"] == "B"
    stamp = patched.json()["data"]["attributes"]["updatedAt"]
    admin.post("/clock", json={"advance": 60})
    silent = admin.patch(
        f"/records/accounts/{new_id}",
        json={"attributes": {"name": "C"}, "relationships": {"owner": 2}, "silent": True},
    ).json()["data"]
    assert silent["attributes"]["updatedAt"] == stamp
    assert silent["relationships"]["owner"]["data"]["id"] == 2
    assert admin.delete(f"/records/accounts/{new_id}").status_code == 204
    assert admin.delete(f"/records/accounts/{new_id}").status_code == 404
    ids = admin.get("/records/accounts", params={"ids_only": "true"}).json()["ids"]
    assert ids == emulator.data.ids("accounts")
    assert admin.get("/records").json()["prospects"] == 200
    assert admin.post("/records/accounts", json={"attributes": {"nope": 1}}).status_code == 400


def test_grant_endpoints(make_emulator) -> None:
    emulator = make_emulator(dev_client_id="dev", dev_client_secret="dev-secret")
    admin = httpx.Client(base_url=emulator.base_url + "/_emulator")
    tokens = admin.post("/grants", json={"scopes": ["users.read"]}).json()
    with httpx.Client(base_url=emulator.api_url) as api:
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert api.get("/users", headers=bearer).status_code == 200
        assert admin.post("/grants/revoke", json={}).json() == {"revoked": 1}
        assert api.get("/users", headers=bearer).status_code == 401
    dev = admin.post("/grants", json={"scopes": ["users.read"], "kind": "development"})
    assert admin.post("/grants/expire-development").json() == {"expired": 1}
    form = {"client_id": "dev", "client_secret": "dev-secret"}
    assert refresh(emulator, dev.json()["refresh_token"], **form).status_code == 400
    assert admin.post("/grants/authorizing-user", json={"user_id": 3}).status_code == 200
    assert exchange(emulator, authorization_code(emulator)).status_code == 200
    assert admin.get("/grants").json()["grants"] == 3
    admin.close()


def test_fault_endpoints(emulator: Emulator, admin: httpx.Client) -> None:
    settings = admin.post("/faults", json={"page_size_limits": {"mailings": 100}}).json()
    assert settings["page_size_limits"] == {"mailings": 100}
    with api_client(emulator) as client:
        assert client.get("/mailings", params={"page[size]": 200}).status_code == 502
        assert admin.post("/faults/reset").json()["page_size_limits"] == {}
        assert client.get("/mailings", params={"page[size]": 200}).status_code == 200
    assert admin.post("/faults", json={"gremlins": 1}).status_code == 400


def test_stats_endpoint(emulator: Emulator, admin: httpx.Client) -> None:
    with api_client(emulator) as client:
        client.get("/prospects", params={"page[size]": 20})
    stats = admin.get("/stats").json()
    assert stats["records_served"] == 20
    assert stats["pages_served"] == 1
    assert stats["streams"] == {"prospects": 1}
    assert stats["records"]["prospects"] == 200


def test_command_serves_until_sigterm() -> None:
    command = [
        sys.executable,
        "-m",
        "outreach_pipeline.cli",
        "emulator",
        "--port",
        "0",
        "--scale",
        "50",
        "--auto-consent",
        "--refresh-mode",
        "lenient",
        "--token-mint-interval",
        "0",
        "--old-access-tokens",
        "keep",
        "--redirect-uri",
        "http://127.0.0.1:8976/callback",
        "--redirect-uri",
        "http://localhost:1234/cb",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = LISTENING.match(line)
        assert match, line
        base_url, api_url = match.groups()
        assert api_url == base_url + "/api/v2"
        admin = httpx.Client(base_url=base_url + "/_emulator")
        tokens = admin.post("/grants", json={"scopes": ["prospects.read"]}).json()
        listing = httpx.get(
            api_url + "/prospects",
            params={"page[size]": 1000},
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert len(listing.json()["data"]) == 50
        for _ in range(2):  # no mint limit: two refreshes at once; the old access token kept
            refreshed = httpx.post(
                base_url + "/oauth/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": tokens["refresh_token"],
                    "client_id": DEFAULT_CLIENT_ID,
                    "client_secret": DEFAULT_CLIENT_SECRET,
                },
            )
            assert refreshed.status_code == 200
        listing = httpx.get(
            api_url + "/prospects",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert listing.status_code == 200
        admin.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _next_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The next line the process prints, or "" when none comes within ``timeout`` s."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    return process.stdout.readline() if ready else ""


def test_command_with_warm_serves_until_sigterm() -> None:
    """``--warm`` forks a pool of workers before serving. They used to inherit the command's
    SIGTERM handler, so leaving the pool could not end them and the start hung for good, in
    about two starts of five: four at once make that show."""
    command = [sys.executable, "-m", "outreach_pipeline.cli", "emulator", "--port", "0"]
    command += ["--scale", "200", "--warm"]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
        for _ in range(4)
    ]
    try:
        for process in processes:
            line = _next_line(process, timeout=30)
            match = LISTENING.match(line)
            assert match, f"not listening within 30 s: {line!r}"
            base_url, api_url = match.groups()
            with httpx.Client(base_url=base_url + "/_emulator", timeout=10) as admin:
                assert admin.get("/stats").json()["warm_seconds"] > 0
                tokens = admin.post("/grants", json={"scopes": ["prospects.read"]}).json()
            listing = httpx.get(
                api_url + "/prospects",
                params={"page[size]": 100},
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
                timeout=10,
            )
            assert len(listing.json()["data"]) == 100
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
    finally:
        for process in processes:
            # The whole group: a stuck warm-up worker would outlive the test.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize("profile", ["realistic", "hostile"])
def test_command_starts_with_a_fault_profile(profile: str) -> None:
    command = [sys.executable, "-m", "outreach_pipeline.cli", "emulator", "--port", "0"]
    command += ["--scale", "50", "--faults", profile]
    if profile == "realistic":
        command += ["--latency-profile", "realistic", "--rate-limit", "100"]
        command += ["--rate-limit-window", "36"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        match = LISTENING.match(_next_line(process, timeout=30))
        assert match
        base_url, api_url = match.groups()
        with httpx.Client(base_url=base_url + "/_emulator", timeout=10) as admin:
            shown = admin.get("/faults").json()
            assert {name: shown[name] for name in PROFILES[profile]} == PROFILES[profile]
            token = admin.post("/grants", json={"scopes": ["mailings.read"]}).json()
        if profile == "hostile":
            return  # its drops and errors make any one answer a matter of the seed
        answer = httpx.get(
            api_url + "/mailings",
            params={"page[size]": 1000},
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=10,
        )
        assert answer.status_code == 502
        assert shown["latency_profile"] == "realistic"
        assert answer.headers["X-RateLimit-Limit"] == "100"
        assert 0 < int(answer.headers["X-RateLimit-Reset"]) - time.time() <= 36
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
