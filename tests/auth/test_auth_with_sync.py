"""The auth layer under the real sync engine: short-lived tokens refreshed while streams are
fetched in parallel threads, and a revoked grant stopping the sync with ReauthorizationRequired."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from outreach_emulator import Emulator
from outreach_pipeline.auth import ReauthorizationRequired, build_auth
from outreach_pipeline.catalog import scopes_for, stream
from outreach_pipeline.client import RateBudget
from outreach_pipeline.sync import SyncOptions, run_sync
from tests.auth.auth_support import emulator_env, settings_from, store_issued_grant

STREAMS = [stream(p) for p in ("prospects", "accounts", "users", "sequences")]


def small_pages(streams: list) -> list:
    return [dataclasses.replace(s, page_size=10) for s in streams]


def test_a_sync_with_two_second_tokens_refreshes_as_it_goes(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    # One mint a minute for two-hour tokens (Outreach), scaled to these 2-second ones.
    emulator = make_emulator(access_token_ttl=2, token_mint_interval=1, rate_limit=10**9)
    emulator.faults.set(latency=0.1)
    env = emulator_env(emulator, tmp_path / "grant.json", "http://127.0.0.1:8976/callback")
    settings = settings_from({**env, "OUTREACH_DUCKDB_PATH": str(tmp_path / "o.duckdb")})
    store_issued_grant(emulator, settings, scopes=scopes_for(STREAMS))
    auth = build_auth(settings)
    results = run_sync(
        settings,
        small_pages(STREAMS),
        auth=auth,
        # One chain per stream: the sync must outlast several tokens.
        options=SyncOptions(concurrency=4, chains_per_stream=1),
        budget=RateBudget(),
    )
    assert all(r.ok for r in results), [r.error for r in results]
    grants = emulator.grants.summary()
    assert grants["refreshes"] >= 1 and grants["refused"] == 0 and grants["mint_limited"] == 0


def test_a_revoked_grant_stops_the_sync(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(rate_limit=10**9)
    env = emulator_env(emulator, tmp_path / "grant.json", "http://127.0.0.1:8976/callback")
    settings = settings_from({**env, "OUTREACH_DUCKDB_PATH": str(tmp_path / "o.duckdb")})
    store_issued_grant(emulator, settings, scopes=scopes_for(STREAMS))
    emulator.grants.revoke_all()
    with pytest.raises(ReauthorizationRequired, match="invalid_grant"):
        run_sync(settings, STREAMS, auth=build_auth(settings), budget=RateBudget())
