"""Eight processes share one grant whose access tokens live 5 s, under single-use refresh tokens,
access tokens revoked by the refresh that replaces them and a limit on how often tokens may be
minted: no refresh token may be spent twice (that would be ``invalid_grant``), no mint may come
sooner than half a token lifetime after the last (Outreach allows one a minute per user; its
tokens live two hours, this test's 5 s) and every request succeeds.

The default suite runs 20 s; ``pytest -m slow`` runs the full minute. Figures are printed
(``pytest -s``) as one ``concurrent refresh:`` line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from outreach_emulator import Emulator
from tests.auth.auth_support import emulator_env, settings_from, store_issued_grant

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("refresh_worker.py")
PROCESSES = 8
ACCESS_TOKEN_TTL = 5
MINT_INTERVAL = ACCESS_TOKEN_TTL / 2


def run_concurrent_refresh(
    make_emulator: Callable[..., Emulator], tmp_path: Path, seconds: float
) -> None:
    emulator = make_emulator(
        access_token_ttl=ACCESS_TOKEN_TTL,
        refresh_mode="single_use",
        old_access_tokens="revoke",
        token_mint_interval=MINT_INTERVAL,
        rate_limit=10**9,
    )
    env = emulator_env(emulator, tmp_path / "grant.json", "http://127.0.0.1:8976/callback")
    store_issued_grant(emulator, settings_from(env))
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), "--seconds", str(seconds)],
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            cwd=tmp_path,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    # Every worker imported and waiting before the first request, however long importing took
    # on a busy machine: the start is given once all have said they are ready.
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline() == "ready\n"
    start_at = time.time() + 0.5
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write(f"{start_at}\n")
        worker.stdin.flush()  # communicate() closes it
    reports = []
    for worker in workers:
        output, errors = worker.communicate(timeout=seconds + 60)
        assert worker.returncode == 0, errors
        reports.append(json.loads(output))
    requests = sum(r["requests"] for r in reports)
    refreshes = sum(r["refreshes"] for r in reports)
    grants = emulator.grants.summary()
    figures = {
        "processes": PROCESSES,
        "seconds": seconds,
        "access_token_ttl": ACCESS_TOKEN_TTL,
        "requests": requests,
        "refreshes": refreshes,
        "invalid_grant": grants["refused"],
        "mint_429": grants["mint_limited"],
        "old_access_tokens_revoked": grants["access_revoked"],
        "api_401": emulator.stats["statuses"].get("401", 0),
    }
    print(f"concurrent refresh: {json.dumps(figures)}")
    assert grants["refused"] == 0
    # One refresh for all eight processes each time: none came too soon after another.
    assert grants["mint_limited"] == 0
    assert all(r["errors"] == {} for r in reports), reports
    assert all(set(r["statuses"]) == {"200"} for r in reports), reports
    assert refreshes == grants["refreshes"]
    # The grant rotated all along, about once per token lifetime: a process that waited for
    # the lock took the token another had just obtained instead of refreshing again. A token
    # lives TTL from its issue, not from the workers' start: the run sees seconds/TTL expiries,
    # give or take the one at its end (a loaded host reaches it after the run's last request).
    assert seconds / ACCESS_TOKEN_TTL - 1 <= refreshes <= 2 * seconds / ACCESS_TOKEN_TTL + 1
    assert min(r["requests"] for r in reports) > seconds  # every process kept working


def test_eight_processes_share_one_grant(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    run_concurrent_refresh(make_emulator, tmp_path, seconds=20)


@pytest.mark.slow
def test_eight_processes_share_one_grant_for_a_minute(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    run_concurrent_refresh(make_emulator, tmp_path, seconds=60)
