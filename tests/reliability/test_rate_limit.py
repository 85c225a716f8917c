"""Case 3, rate limit: three ``run_sync`` processes share one grant whose user may make 300
requests per hour of the emulator's test clock; together they need more than that. None is
refused a request (the emulator counts 429s), none fails, and all finish once the window renews.

The test clock is frozen and driven by this test at ``SPEED`` test seconds per real second; the
workers read it for their budgets and sleep its seconds scaled down (tests/reliability/
rate_worker.py). Each run writes its own DuckDB file, so only the grant and budget are shared.
The single-process variant, with a limit of 12 on a clock moved by the budget's own waits, is
tests/sync/test_faults_and_limits.py::test_a_tiny_rate_limit_is_never_exceeded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from outreach_emulator import Emulator
from outreach_emulator.ratelimit import WINDOW
from tests.reliability.figures import report
from tests.reliability.grants import stored_grant_env
from tests.sync.processes import ROOT

WORKER = Path(__file__).with_name("rate_worker.py")
RUNS = 3
LIMIT = 300
SPEED = 600.0  # an hour of test clock in six seconds
TICK = 0.01


def _drive(emulator: Emulator, stopped: threading.Event) -> None:
    while not stopped.wait(TICK):
        emulator.clock.advance(SPEED * TICK)


def test_three_runs_share_a_budget_of_300_an_hour(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(seed=31, scale=100, rate_limit=LIMIT, access_token_ttl=10**8)
    env = stored_grant_env(emulator, tmp_path)
    started_at = emulator.clock.freeze()
    stopped = threading.Event()
    driver = threading.Thread(target=_drive, args=(emulator, stopped), daemon=True)
    driver.start()
    try:
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER),
                    f"--admin-url={emulator.base_url}/_emulator",
                    f"--speed={SPEED}",
                    "--page-size=10",
                ],
                env={
                    **os.environ,
                    **env,
                    "OUTREACH_DUCKDB_PATH": str(tmp_path / f"run{n}.duckdb"),
                    "PYTHONPATH": str(ROOT),
                },
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(RUNS)
        ]
        outcomes = [worker.communicate(timeout=240) for worker in workers]
    finally:
        stopped.set()
        driver.join()
    assert all(worker.returncode == 0 for worker in workers), [err for _, err in outcomes]
    reports = [json.loads(out) for out, _ in outcomes]
    requests = sum(r["requests"] for r in reports)
    windows = (emulator.clock.now() - started_at) / WINDOW
    report(
        "rate limit",
        runs=RUNS,
        limit_per_hour=LIMIT,
        requests=requests,
        refused=emulator.rate_limiter.refused,
        test_clock_hours=round(windows, 2),
    )
    assert all(r["failed"] == [] for r in reports), reports
    assert emulator.rate_limiter.refused == 0
    assert requests > LIMIT and requests == emulator.stats["requests"]["api"]
