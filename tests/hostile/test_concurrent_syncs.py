"""Two syncs of one database at once: the second waits for the first (saying for whom), one
that will not wait is refused with one line naming the lock and the other process, and the
table ends up exactly the API's. Before the writer lock, the second sync's stage reset dropped
the first's staged pages of a stream without a cursor (duties) and the first swapped in an
incomplete stage, reporting ok.

The syncs are real ``outreach-pipeline sync`` processes against one emulator, slowed (and its
duties served two per page) so that they overlap; an in-process ``run_sync`` stands for a
Dagster run, which takes the same lock.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from outreach_emulator import Emulator, bearer_auth
from outreach_pipeline import cli
from outreach_pipeline.catalog import select, stream
from outreach_pipeline.landing import SyncInProgress
from outreach_pipeline.sync import SyncOptions, run_sync
from tests.reliability.cli_runs import start_cli
from tests.reliability.grants import stored_grant_env
from tests.sync.processes import ROOT
from tests.sync.support import assert_landing_equals_emulator, settings_for

DUTIES = ["sync", "--streams", "duties", "--batch-rows", "2"]


def _duty_requests(emulator: Emulator) -> int:
    return int(emulator.stats["streams"].get("duties", 0))


def _finish(child: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = child.communicate(timeout=180)
    return child.returncode, out, err


def test_a_second_sync_waits_and_nothing_is_lost(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator()
    env = stored_grant_env(emulator, tmp_path)
    db_path = Path(env["OUTREACH_DUCKDB_PATH"])
    emulator.faults.set(page_size_limits={"duties": 2})
    code, _, err = _finish(start_cli(DUTIES, env, tmp_path))  # learns the page size of 2
    assert code == 0, err
    emulator.faults.set(latency=1.5)
    before = _duty_requests(emulator)

    first = start_cli(DUTIES, env, tmp_path)
    deadline = time.monotonic() + 60
    while _duty_requests(emulator) < before + 1:  # it has started reading duties
        assert time.monotonic() < deadline and first.poll() is None, "the first sync stalled"
        time.sleep(0.05)
    second = start_cli(DUTIES, env, tmp_path)
    impatient = start_cli([*DUTIES, "--wait", "0"], env, tmp_path)
    with pytest.raises(SyncInProgress, match=f"PID {first.pid}"):
        run_sync(
            settings_for(emulator, db_path),
            [stream("duties")],
            auth=bearer_auth(emulator),
            options=SyncOptions(writer_lock_wait=0),
        )
    results = {name: _finish(child) for name, child in [("first", first), ("second", second)]}
    refused_code, _, refused_err = _finish(impatient)

    for name, (code, out, err) in results.items():
        assert code == 0, (name, err)
        assert "FAILED" not in out, (name, out)
    waited = results["second"][2]
    assert f"waiting for the sync running in PID {first.pid} to finish" in waited, waited
    assert refused_code == 2, refused_err
    (line,) = refused_err.strip().splitlines()
    assert line.startswith("outreach-pipeline sync: ") and f"{db_path}.sync.lock" in line
    assert f"PID {first.pid}" in line or f"PID {second.pid}" in line, line
    assert_landing_equals_emulator(emulator, db_path, [stream("duties")])


def test_a_stream_named_twice_is_synced_once() -> None:
    assert [s.path for s in select("duties, duties,users,duties")] == ["duties", "users"]


@pytest.mark.parametrize("streams", ["", " ", ",", " , "])
def test_naming_no_stream_is_refused_not_read_as_all(
    streams: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OUTREACH_DUCKDB_PATH", str(tmp_path / "landing.duckdb"))

    assert cli.main(["sync", "--streams", streams]) == 2

    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("outreach-pipeline sync: no stream named in"), line
    assert not (tmp_path / "landing.duckdb").exists()


def test_run_sync_refuses_a_stream_twice(emulator: Emulator, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="named twice"):
        run_sync(
            settings_for(emulator, tmp_path / "landing.duckdb"),
            [stream("duties"), stream("duties")],
            auth=bearer_auth(emulator),
        )


HOLDER = """
import sys, time
from pathlib import Path
from outreach_pipeline.landing import sync_writer_lock
with sync_writer_lock(Path(sys.argv[1]), 0):
    print("holding", flush=True)
    time.sleep(30)
"""


def test_a_sync_waits_as_long_as_told_then_names_the_holder(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = stored_grant_env(emulator, tmp_path)
    db_path = Path(env["OUTREACH_DUCKDB_PATH"])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        started = time.monotonic()
        code, out, err = _finish(start_cli([*DUTIES, "--wait", "2"], env, tmp_path))
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()

    assert code == 2 and out == "", err
    waiting, refused = err.strip().splitlines()
    assert waiting == (
        f"waiting for the sync running in PID {holder.pid} to finish "
        f"(up to 2 s; lock {db_path}.sync.lock)"
    )
    assert refused == (
        f"outreach-pipeline sync: {db_path} is being written by the sync running in PID "
        f"{holder.pid} (lock {db_path}.sync.lock), still after waiting 2 s; "
        "sync again once it has finished"
    )
    assert waited >= 2
    assert not db_path.exists()
