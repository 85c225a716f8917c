"""Case 6, revocation mid-sync: the user disconnects the app while ``outreach-pipeline sync``
runs. The command stops within seconds with the one-line reauthorization message (exit code 2,
no traceback), every batch committed before stays, and after a new login the next run resumes:
it inserts exactly the rows the failed run had not landed, from the saved cursors and links.

The alerting side (the sensor alerts once, then once resolved) is
tests/defs/test_defs_grant_alert_e2e.py::test_revoked_grant_alert_login_resolved_sync.
"""

from __future__ import annotations

import time
from pathlib import Path

from outreach_pipeline.catalog import catalog
from tests.reliability.figures import report
from tests.reliability.landing_state import inserted_by_last_run, read_snapshot
from tests.sync.processes import EmulatorProcess, authorized_environment, sync_process
from tests.sync.support import assert_landing_equals

BATCH = ("--batch-rows", "200")


def _wait_for_requests(emulator: EmulatorProcess, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while emulator.admin.get("/stats").json()["requests"].get("api", 0) < count:
        assert time.monotonic() < deadline, "the sync never got going"
        time.sleep(0.05)


def test_a_grant_revoked_mid_sync(tmp_path: Path) -> None:
    emulator = EmulatorProcess("--seed", "6", "--scale", "300")
    try:
        env = authorized_environment(emulator, tmp_path)
        db_path = Path(env["OUTREACH_DUCKDB_PATH"])
        emulator.admin.post("/faults", json={"latency": 0.3})  # a sync of several seconds
        child = sync_process(env, *BATCH)
        _wait_for_requests(emulator, 12)
        emulator.admin.post("/grants/revoke", json={})
        revoked = time.monotonic()
        _, err = child.communicate(timeout=120)
        failed_in = time.monotonic() - revoked
        kept = read_snapshot(db_path)

        emulator.admin.post("/faults/reset")
        # A minute later (one token minted a minute per user), `auth login` again: a new grant.
        emulator.admin.post("/clock", json={"advance": 60})
        env = authorized_environment(emulator, tmp_path)
        rerun = sync_process(env, *BATCH)
        _, rerun_err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, rerun_err
        assert_landing_equals(emulator.records, db_path)
        counts = emulator.admin.get("/records").json()
    finally:
        emulator.stop()

    assert child.returncode == 2, err
    assert "Traceback" not in err
    last_line = err.strip().splitlines()[-1]
    assert last_line.startswith("outreach-pipeline sync: ") and "invalid_grant" in last_line
    assert last_line.endswith("run `outreach-pipeline auth login` to authorize again"), err
    assert failed_in < 10, failed_in
    kept_rows = sum(s["rows"] for s in kept.values())
    assert kept_rows > 0, "nothing was committed before the revocation"
    incremental = [s.path for s in catalog().values() if s.incremental]
    inserted = inserted_by_last_run(db_path)
    report(
        "revocation",
        failed_in_seconds=round(failed_in, 2),
        rows_kept=kept_rows,
        streams_mid_load=sum(1 for s in kept.values() if s["resume_url"]),
        rerun_inserted=sum(inserted.values()),
    )
    # Non-incremental streams are replaced whole; incremental ones only add what was missing.
    assert {p: inserted[p] for p in incremental} == {
        p: counts[p] - kept[p]["rows"] for p in incremental
    }
