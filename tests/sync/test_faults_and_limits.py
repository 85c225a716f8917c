"""Faults and a tiny rate limit on the emulator: the landing still equals its data."""

from __future__ import annotations

from pathlib import Path

import duckdb

from outreach_pipeline.catalog import stream
from outreach_pipeline.client import RateBudget
from outreach_pipeline.landing import load_state
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


def test_a_page_size_that_502s_is_learned_once(make_emulator, sync, db_path: Path):
    """Outreach answers 502 to mailings pages too heavy to render: the first run halves the
    size until a page passes and records it; the next run starts there, with no 502."""
    emu = make_emulator(seed=6)
    emu.faults.set(page_size_limits={"mailings": 100})
    mailings = [stream("mailings")]
    first = sync(emu, mailings)[0]
    assert first.ok, first.error
    assert_landing_equals_emulator(emu, db_path, mailings)
    # 1000 -> 500 -> 250 -> 125 -> 62: two 502s at each size, then pages of 62.
    assert bad_gateways(emu) == 8, emu.stats["statuses"]
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert load_state(con, "mailings").page_size == 62

    emu.clock.advance(10)
    emu.data.update("mailings", 3, {"subject": "Lighter"})
    second = sync(emu, mailings)[0]
    assert second.ok, second.error
    assert bad_gateways(emu) == 8, "the learned size still 502s"
    assert second.requests == 2  # the server's time, then one page
    assert_landing_equals_emulator(emu, db_path, mailings)

    sync(emu, mailings, full_refresh=True)
    assert bad_gateways(emu) == 16, "a full refresh tries 1000 again"


def bad_gateways(emu) -> int:
    return int(emu.stats["statuses"].get("502", 0))
