"""Case 2, faults: 5% of answers 500/502/503, 1% dropped connections, 1% truncated bodies,
records out of order within pages and storms of 429s; the sync completes with exact data.

tests/sync/test_faults_and_limits.py shows heavier shares at the smallest scale; here the issue's
mix runs against a fault-free baseline of the same data, so the figures are the requests retried
and the time the faults added. A 429 storm is someone else spending the grant's hourly budget a
second before the emulator's window ends: every request is refused with ``Retry-After`` until
the window rolls over, and the sync must wait it out rather than fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from outreach_emulator import Emulator, bearer_auth
from outreach_emulator.ratelimit import WINDOW
from outreach_pipeline.catalog import catalog
from outreach_pipeline.client import RateBudget
from outreach_pipeline.retry import API_REQUESTS, RetryPolicy
from outreach_pipeline.sync import StreamResult, run_sync
from tests.reliability.figures import report
from tests.sync.conftest import QUICK_RETRY
from tests.sync.support import assert_landing_equals_emulator, settings_for

# A bounded number of storms, so that a request's retries (1 s apart) outlast them.
MAX_STORMS = 3
# Pages of 25 records: a few hundred requests even at a small scale, so 1% shares show up.
SMALL_PAGES = [replace(stream, page_size=25) for stream in catalog().values()]
ISSUE_FAULTS = {"error_rate": 0.05, "drop_rate": 0.01, "truncate_rate": 0.01, "shuffle_pages": True}


class RateLimitStorms:
    """Every ``every`` seconds, at most ``MAX_STORMS`` times, the emulator's clock jumps to one
    second before the end of its rate-limit window and another party spends the whole budget."""

    def __init__(self, emulator: Emulator, every: float) -> None:
        self.emulator = emulator
        self.every = every
        self.storms = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RateLimitStorms:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        clock, limiter = self.emulator.clock, self.emulator.rate_limiter
        while self.storms < MAX_STORMS and not self._stopped.wait(self.every):
            clock.set((clock.now() // WINDOW + 1) * WINDOW - 1)
            while limiter.spend("user:1")[0]:
                pass
            self.storms += 1


def _timed_sync(
    emulator: Emulator, db_path: Path, retry: RetryPolicy, budget: RateBudget
) -> tuple[list[StreamResult], float]:
    started = time.monotonic()
    results = run_sync(
        settings_for(emulator, db_path),
        SMALL_PAGES,
        auth=bearer_auth(emulator),
        budget=budget,
        retry=retry,
    )
    assert all(r.ok for r in results), [r.error for r in results if r.error]
    assert_landing_equals_emulator(emulator, db_path)
    return results, time.monotonic() - started


def run_fault_mix(
    make_emulator: Callable[..., Emulator],
    tmp_path: Path,
    scale: int,
    retry: RetryPolicy,
) -> None:
    """Sync a fault-free emulator and one with the issue's faults (same seed and scale) into
    separate files; both must equal their emulator, and the figures compare the two runs."""
    clean = make_emulator(seed=21, scale=scale)
    _, clean_seconds = _timed_sync(clean, tmp_path / "clean.duckdb", retry, RateBudget())

    # The storms move its clock by up to an hour each: the test token must outlive them.
    faulty = make_emulator(seed=21, scale=scale, access_token_ttl=10**8)
    faulty.faults.set(**ISSUE_FAULTS)
    # The budget reads the emulator's clock, which the storms move.
    budget = RateBudget(clock=faulty.clock.now)
    with RateLimitStorms(faulty, every=max(0.5, clean_seconds / 4)) as storms:
        results, faulty_seconds = _timed_sync(faulty, tmp_path / "faulty.duckdb", retry, budget)
    stats = faulty.stats
    requests = sum(r.requests for r in results)
    retried = requests - sum(r.pages for r in results)
    report(
        "faults",
        scale=scale,
        requests=requests,
        retried=retried,
        faults=stats["faults"],
        rate_limited=stats["rate_limited"],
        storms=storms.storms,
        clean_seconds=round(clean_seconds, 1),
        extra_seconds=round(faulty_seconds - clean_seconds, 1),
    )
    assert storms.storms >= 1 and stats["rate_limited"] > 0
    assert sum(stats["faults"].values()) > 0
    assert retried > 0 and requests == stats["requests"]["api"]


def test_the_issue_fault_mix_leaves_exact_data(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    # Scale 200: ~130 requests. At 100 (~65) the 7% of requests the faults hit came to none
    # about once in a hundred runs, and the test failed for want of a fault.
    run_fault_mix(make_emulator, tmp_path, scale=200, retry=QUICK_RETRY)


@pytest.mark.soak
def test_the_issue_fault_mix_at_scale_with_production_retries(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    run_fault_mix(make_emulator, tmp_path, scale=2000, retry=API_REQUESTS)
