"""Issue 16, section 2: Ctrl-C (SIGINT) and SIGTERM stop a real ``outreach-pipeline sync``
within seconds, say what was kept, leave every stream's ``sync_runs`` row saying interrupted
(or ok, for those done before), and a landing that the next sync completes to equal the API.

Both processes are real: the emulator in one, the sync in another, signalled mid-run."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from outreach_pipeline.catalog import default_streams
from tests.sync.processes import EmulatorProcess, authorized_environment, sync_process
from tests.sync.support import assert_landing_equals

# From the signal to the process's exit.
STOP_WITHIN = 5.0


@pytest.fixture
def small_emulator() -> Iterator[EmulatorProcess]:
    emulator = EmulatorProcess("--scale", "2000")
    yield emulator
    emulator.stop()


@pytest.fixture
def large_emulator() -> Iterator[EmulatorProcess]:
    emulator = EmulatorProcess("--scale", "20000")
    yield emulator
    emulator.stop()


def _runs(db_path: Path) -> dict[str, list[tuple[str, str | None]]]:
    """Each run's rows as (stream, error)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute("SELECT run_id, stream, error FROM outreach.sync_runs").fetchall()
    finally:
        con.close()
    runs: dict[str, list[tuple[str, str | None]]] = {}
    for run_id, stream, error in rows:
        runs.setdefault(run_id, []).append((stream, error))
    return runs


def _stop_mid_run(
    emulator: EmulatorProcess, workdir: Path, sig: signal.Signals, after: float, *args: str
) -> None:
    env = authorized_environment(emulator, workdir)
    sync = sync_process(env, *args)
    assert sync.stderr is not None
    assert "started" in sync.stderr.readline()  # plain progress lines: not a terminal
    time.sleep(after)
    signalled = time.monotonic()
    sync.send_signal(sig)
    out, err = sync.communicate(timeout=60)
    took = time.monotonic() - signalled

    assert sync.returncode == 128 + sig, err
    assert took < STOP_WITHIN, f"stopped {took:.1f} s after {sig.name}"
    assert "Traceback" not in err, err
    assert f"interrupted by {sig.name}" in err and "are kept in" in err, err
    assert "interrupted" in out  # the summary still says what each stream did

    db_path = Path(env["OUTREACH_DUCKDB_PATH"])
    (rows,) = _runs(db_path).values()
    assert sorted(stream for stream, _ in rows) == sorted(s.path for s in default_streams())
    interrupted = [s for s, error in rows if error is not None]
    assert interrupted, "the signal came after every stream had finished"
    for stream, error in rows:
        assert error is None or error.startswith(f"stream {stream}: interrupted"), error

    # The next sync completes what the interrupted one left, and the landing equals the API.
    emulator.admin.post("/faults/reset")
    rerun = sync_process(env, "--quiet")
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    assert out == "" and err == ""
    assert_landing_equals(emulator.records, db_path)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_a_slow_sync_in_seconds(small_emulator, tmp_path: Path, sig):
    small_emulator.admin.post("/faults", json={"latency": 0.3})
    _stop_mid_run(small_emulator, tmp_path, sig, 2.0, "--batch-rows", "200")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_a_full_sync_at_scale(large_emulator, tmp_path: Path, sig):
    _stop_mid_run(large_emulator, tmp_path, sig, 6.0)
