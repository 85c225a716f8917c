"""Eight processes share grants whose access tokens live 5 s, under single-use refresh tokens,
access tokens revoked by the refresh that replaces them and a limit on how often tokens may be
minted per user: no refresh token may be spent twice (that would be ``invalid_grant``), no mint
may come sooner than half a token lifetime after the last for the same user (Outreach allows one
a minute per user; its tokens live two hours, this test's 5 s) and every request succeeds.

Once with one grant in the JSON file store, once with two grants (two users, four processes
each) in the PostgreSQL store. The default suite runs 20 s each; ``pytest -m slow`` runs the
file store for a minute, ``pytest -m soak`` the PostgreSQL store for ten. Figures are printed
(``pytest -s``) as one ``concurrent refresh:`` line: refreshes per grant and the shortest
spacing between two of a grant's refreshes, beside the emulator's mint limit.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from outreach_emulator import Emulator
from tests.auth.auth_support import emulator_env, settings_from, store_issued_grant

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("refresh_worker.py")
PROCESSES = 8
ACCESS_TOKEN_TTL = 5
MINT_INTERVAL = ACCESS_TOKEN_TTL / 2
TWO_GRANTS = ("acme", "globex")


def run_concurrent_refresh(
    make_emulator: Callable[..., Emulator],
    store: Path | str,
    cwd: Path,
    seconds: float,
    grants: Sequence[str] = ("default",),
) -> dict[str, Any]:
    """Run the processes (spread evenly over ``grants``, each grant another user's) against
    the token store ``store`` for ``seconds``; check them and return the figures."""
    emulator = make_emulator(
        access_token_ttl=ACCESS_TOKEN_TTL,
        refresh_mode="single_use",
        old_access_tokens="revoke",
        token_mint_interval=MINT_INTERVAL,
        rate_limit=10**9,
    )
    env = emulator_env(emulator, store, "http://127.0.0.1:8976/callback")
    for user_id, grant in enumerate(grants, start=1):
        grant_settings = settings_from(env).for_grant(grant)
        store_issued_grant(emulator, grant_settings, user_id=user_id)
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), "--seconds", str(seconds)],
            env={
                **os.environ,
                **env,
                "OUTREACH_GRANT": grants[n % len(grants)],
                "PYTHONPATH": str(ROOT),
            },
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
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
    refreshes = {grant: refresh_figures(reports, grant) for grant in grants}
    summary = emulator.grants.summary()
    figures = {
        "processes": PROCESSES,
        "grants": len(grants),
        "seconds": seconds,
        "access_token_ttl": ACCESS_TOKEN_TTL,
        "mint_limit_seconds": MINT_INTERVAL,
        "requests": sum(r["requests"] for r in reports),
        "refreshes": refreshes,
        "invalid_grant": summary["refused"],
        "mint_429": summary["mint_limited"],
        "old_access_tokens_revoked": summary["access_revoked"],
        "api_401": emulator.stats["statuses"].get("401", 0),
    }
    print(f"concurrent refresh: {json.dumps(figures)}")
    assert summary["refused"] == 0
    # One refresh for all of a grant's processes each time: none came too soon after another.
    assert summary["mint_limited"] == 0
    assert all(r["errors"] == {} for r in reports), reports
    assert all(set(r["statuses"]) == {"200"} for r in reports), reports
    assert sum(r["refreshes"] for r in reports) == summary["refreshes"]
    # Each grant rotated all along, about once per token lifetime: a process that waited for
    # the lock took the token another had just obtained instead of refreshing again. A token
    # lives TTL from its issue, not from the workers' start: the run sees seconds/TTL expiries,
    # give or take the one at its end (a loaded host reaches it after the run's last request).
    # On a loaded host each rotation also takes the refresh's own time: the ten-minute run on
    # 2 busy cores rotated every 5.7 s, so the floor over long runs is half the ideal count.
    for grant in grants:
        count = refreshes[grant]["count"]
        floor = seconds / ACCESS_TOKEN_TTL - 1 if seconds <= 20 else seconds / ACCESS_TOKEN_TTL / 2
        assert floor <= count <= 2 * seconds / ACCESS_TOKEN_TTL + 1
    assert min(r["requests"] for r in reports) > seconds  # every process kept working
    return figures


def refresh_figures(reports: list[dict[str, Any]], grant: str) -> dict[str, float | None]:
    """How often ``grant`` was refreshed, and the shortest time between two of its refreshes
    (as saved by the workers; the emulator refuses any mint under its limit with 429)."""
    times = sorted(t for r in reports if r["grant"] == grant for t in r["refresh_times"])
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    return {"count": len(times), "min_spacing_s": round(min(gaps), 3) if gaps else None}


def test_eight_processes_share_one_grant(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    run_concurrent_refresh(make_emulator, tmp_path / "grant.json", tmp_path, seconds=20)


@pytest.mark.slow
def test_eight_processes_share_one_grant_for_a_minute(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    run_concurrent_refresh(make_emulator, tmp_path / "grant.json", tmp_path, seconds=60)


def test_eight_processes_share_two_grants_on_postgres(
    make_emulator: Callable[..., Emulator], postgres_url: str, tmp_path: Path
) -> None:
    run_concurrent_refresh(make_emulator, postgres_url, tmp_path, seconds=20, grants=TWO_GRANTS)


@pytest.mark.soak
def test_eight_processes_share_two_grants_on_postgres_for_ten_minutes(
    make_emulator: Callable[..., Emulator], postgres_url: str, tmp_path: Path
) -> None:
    run_concurrent_refresh(make_emulator, postgres_url, tmp_path, seconds=600, grants=TWO_GRANTS)
