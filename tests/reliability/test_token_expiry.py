"""Case 4, token expiry mid-sync: access tokens live 2 seconds while a sync of the whole catalog
in small pages runs many times longer. The auth layer refreshes ahead of expiry (and on a 401),
so no request fails as far as the client is concerned: every stream succeeds, and every
answer the API gave was a success. tests/auth/test_auth_with_sync.py has the four-stream version.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from outreach_emulator import Emulator
from outreach_pipeline.auth import build_auth
from outreach_pipeline.catalog import catalog
from outreach_pipeline.client import RateBudget
from outreach_pipeline.settings import load_settings
from outreach_pipeline.sync import SyncOptions, run_sync
from tests.reliability.figures import report
from tests.reliability.grants import stored_grant_env
from tests.sync.support import assert_landing_equals_emulator

TOKEN_SECONDS = 2


def run_long_sync(
    make_emulator: Callable[..., Emulator], tmp_path: Path, scale: int, latency: float
) -> None:
    # Outreach allows one mint a minute for tokens living two hours; scaled to these tokens.
    emulator = make_emulator(
        scale=scale,
        access_token_ttl=TOKEN_SECONDS,
        token_mint_interval=TOKEN_SECONDS / 2,
        rate_limit=10**9,
    )
    emulator.faults.set(latency=latency)
    settings = load_settings(env=stored_grant_env(emulator, tmp_path), dotenv=None)
    streams = [replace(s, page_size=10) for s in catalog().values()]
    started = time.monotonic()
    # One chain per stream: cut windows would end the sync before tokens expire often enough.
    options = SyncOptions(chains_per_stream=1)
    results = run_sync(
        settings, streams, auth=build_auth(settings), budget=RateBudget(), options=options
    )
    seconds = time.monotonic() - started
    assert_landing_equals_emulator(emulator, settings.duckdb_path)
    grants = emulator.grants.summary()
    requests = sum(r.requests for r in results)
    report(
        "token expiry",
        scale=scale,
        seconds=round(seconds, 1),
        token_lifetimes=round(seconds / TOKEN_SECONDS, 1),
        requests=requests,
        refreshes=grants["refreshes"],
        api_401=emulator.stats["statuses"].get("401", 0),
        failed_streams=sum(1 for r in results if not r.ok),
    )
    assert all(r.ok for r in results), [r.error for r in results if r.error]
    # Every answer was a success, or a 401 the auth layer absorbed by refreshing.
    assert set(emulator.stats["statuses"]) <= {"200", "401"}, emulator.stats["statuses"]
    assert grants["refused"] == 0
    assert seconds > 3 * TOKEN_SECONDS and grants["refreshes"] >= seconds / TOKEN_SECONDS / 2


def test_two_second_tokens_during_a_long_sync(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    run_long_sync(make_emulator, tmp_path, scale=100, latency=0.15)


@pytest.mark.soak
def test_two_second_tokens_during_a_two_minute_sync(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    run_long_sync(make_emulator, tmp_path, scale=1000, latency=0.1)
