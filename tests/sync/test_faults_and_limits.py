"""Faults and a tiny rate limit on the emulator: the landing still equals its data."""

from __future__ import annotations

from pathlib import Path

from outreach_pipeline.catalog import stream
from outreach_pipeline.client import RateBudget
from outreach_pipeline.sync import SyncOptions
from tests.sync.support import assert_landing_equals_emulator


def test_faults_do_not_change_what_lands(make_emulator, sync, db_path: Path):
    emu = make_emulator(seed=5)
    emu.faults.set(
        error_rate=0.1,
        drop_rate=0.05,
        truncate_rate=0.05,
        shuffle_pages=True,
        page_size_limits={"mailings": 30, "prospects": 120},
    )
    results = {r.stream: r for r in sync(emu)}
    assert all(r.ok for r in results.values()), [r.error for r in results.values() if r.error]
    assert_landing_equals_emulator(emu, db_path)
    assert results["mailings"].pages >= 600 // 30
    faults = emu.stats["faults"]
    assert {"dropped", "truncated"} <= faults.keys(), faults
    assert sum(r.requests for r in results.values()) == emu.stats["requests"]["api"]

    emu.clock.advance(10)
    emu.data.update("prospects", 4, {"title": "Chief Fault Officer"})
    again = {r.stream: r for r in sync(emu, [stream("prospects")])}
    assert again["prospects"].ok
    assert_landing_equals_emulator(emu, db_path, [stream("prospects")])


def test_a_tiny_rate_limit_is_never_exceeded(make_emulator, sync, db_path: Path):
    """300 requests/hour would make this test wait; the budget's clock is the emulator's,
    and waiting for the next window moves that clock instead of sleeping."""
    emu = make_emulator(seed=9, rate_limit=12, rate_limit_two_values=True, access_token_ttl=10**8)
    emu.clock.freeze()
    budget = RateBudget(clock=emu.clock.now, sleep=emu.clock.advance)
    results = sync(emu, budget=budget, options=SyncOptions(concurrency=4))
    assert all(r.ok for r in results), [r.error for r in results if r.error]
    assert emu.rate_limiter.refused == 0
    assert sum(r.requests for r in results) > 12
    assert_landing_equals_emulator(emu, db_path)
