"""Issue 16, section 2, in Dagster: a run termination reaching the sync step (Dagster raises
``DagsterExecutionInterruptedError`` in the step's thread) stops the sync in seconds, each
stream's ``sync_runs`` row saying interrupted; the step's progress is in the run's log,
throttled (not a line per page)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import duckdb
import pytest
from dagster._core.errors import DagsterExecutionInterruptedError, raise_execution_interrupts

from outreach_emulator import Emulator
from outreach_pipeline.catalog import catalog
from outreach_pipeline.defs.run_log import RunLogProgress
from outreach_pipeline.settings import DEFAULT_GRANT
from outreach_pipeline.sync import StreamResult
from tests.defs.conftest import emulator_resources

INTERRUPT_AFTER = 2.0


def test_a_run_termination_stops_the_sync_step(emulator: Emulator, tmp_path: Path):
    """The step's sync under Dagster's own interrupt handling (what a step body runs in): a
    run worker told to terminate gets SIGINT, raised in the step as the interrupted error."""
    emulator.faults.set(latency=0.3)
    resources = emulator_resources(emulator, tmp_path)
    lines: list[str] = []
    terminate = threading.Timer(INTERRUPT_AFTER, os.kill, (os.getpid(), signal.SIGINT))
    with raise_execution_interrupts():
        started = time.monotonic()
        terminate.start()
        try:
            with pytest.raises(DagsterExecutionInterruptedError):
                resources["outreach"].sync(
                    list(catalog().values()),
                    resources["duckdb"].database,
                    grant=DEFAULT_GRANT,
                    progress=RunLogProgress(lines.append, lines.append),
                )
        finally:
            # A SIGINT arriving after a failure would stop the test process (an xdist worker).
            terminate.cancel()
        took = time.monotonic() - started
    assert took < INTERRUPT_AFTER + 5, f"the step went on {took - INTERRUPT_AFTER:.1f} s"
    with duckdb.connect(resources["duckdb"].database, read_only=True) as con:
        rows = con.execute("SELECT stream, error FROM outreach.sync_runs").fetchall()
    assert sorted(stream for stream, _ in rows) == sorted(catalog())
    interrupted = [s for s, error in rows if error and error.startswith(f"stream {s}: interrupted")]
    assert interrupted
    assert all(error is None or s in interrupted for s, error in rows), rows
    assert "prospects: started" in lines and any(": interrupted," in line for line in lines)


def test_the_run_log_gets_start_finish_and_a_line_per_stream_every_ten_seconds():
    lines: list[str] = []
    now = [0.0]
    progress = RunLogProgress(lines.append, lines.append, every=10.0, clock=lambda: now[0])
    progress.stream_started("prospects")
    for _ in range(100):  # a page a second for 100 s
        now[0] += 1.0
        progress.page_read("prospects", 1000, None)
    progress.stream_finished(StreamResult("prospects", records_inserted=100_000, pages=100))
    assert lines[0] == "prospects: started"
    assert lines[1] == "prospects: 10000 records read in 10 pages"
    assert len(lines) == 1 + 10 + 1
    assert lines[-1].startswith("prospects: ok, 100000 rows, 100 pages")
