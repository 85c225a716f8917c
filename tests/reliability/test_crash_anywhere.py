"""Case 1, crash anywhere: ``outreach-pipeline sync`` is killed with SIGKILL at 50 random moments,
rerun after each kill, and after every rerun the landing equals the emulator's data exactly.

The killed runs are full refreshes with small batches, so each one has the whole catalog to fetch,
land and commit, and the kill moments, drawn over the length of an uninterrupted full sync, fall in
every phase. Between cycles a few records change in the emulator, so a rerun must both resume and
pick up changes. Ids are primary keys, so a duplicate would fail the write itself; the comparison
catches gaps and stale values. The quick three-kill version is
tests/sync/test_processes.py::test_killed_syncs_resume_without_loss_or_duplicates.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from tests.reliability.figures import report
from tests.sync.processes import EmulatorProcess, authorized_environment, sync_process
from tests.sync.support import assert_landing_equals

KILLS = 50
BATCH = ("--batch-rows", "500")


def _finish(env: dict[str, str], *args: str) -> float:
    """Run a sync to its end; its duration in seconds."""
    started = time.monotonic()
    child = sync_process(env, *BATCH, *args)
    _, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    return time.monotonic() - started


def _change_some_records(emulator: EmulatorProcess, rng: random.Random, cycle: int) -> None:
    for _ in range(3):
        record = rng.randint(1, 2000)
        title = f"cycle {cycle} title"
        emulator.admin.patch(f"/records/prospects/{record}", json={"attributes": {"title": title}})
    emulator.admin.post("/records/accounts", json={"attributes": {"name": f"Cycle {cycle} Inc"}})
    # A run reads up to the API's time less a 1 s margin: let the changes fall inside it.
    emulator.admin.post("/clock", json={"advance": 2})


@pytest.mark.soak
def test_fifty_kills_at_random_moments(tmp_path: Path) -> None:
    emulator = EmulatorProcess("--seed", "3", "--scale", "2000")
    try:
        env = authorized_environment(emulator, tmp_path)
        db_path = Path(env["OUTREACH_DUCKDB_PATH"])
        full_sync_seconds = _finish(env)
        rng = random.Random(2026)
        mid_run = survived = 0
        rerun_seconds = []
        for cycle in range(KILLS):
            _change_some_records(emulator, rng, cycle)
            child = sync_process(env, *BATCH, "--full-refresh")
            time.sleep(rng.uniform(0.1, full_sync_seconds))
            child.kill()
            child.communicate()
            mid_run += child.returncode == -signal.SIGKILL
            rerun_seconds.append(_finish(env))
            assert_landing_equals(emulator.records, db_path)
            survived += 1
    finally:
        emulator.stop()
    report(
        "crash anywhere",
        kills=KILLS,
        killed_mid_run=mid_run,
        survived=survived,
        full_sync_seconds=round(full_sync_seconds, 1),
        mean_rerun_seconds=round(sum(rerun_seconds) / len(rerun_seconds), 1),
    )
    assert survived == KILLS
