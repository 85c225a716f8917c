"""Reads during a sync (issue #16, section 1): while ``outreach-pipeline sync`` lands a first
load in many batches, readers through the documented read path, ``outreach-pipeline sql`` and
``duckdb.connect(<data>.read.duckdb, read_only=True)`` (as a BI tool opens it), never fail,
every query starts within a second, and every state they see is a batch boundary: each
stream's rows are exactly the records before its saved next-page link, none before it
started, all once its cursor is set; and row counts never go back.

Before the read snapshot, at scale 20000 a reader retrying every 50 ms was locked out for the
whole 35 s of a full refresh, and ``sql`` waited 27-30 s or failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from outreach_pipeline.catalog import catalog
from outreach_pipeline.landing.read_snapshot import is_current, snapshot_path
from tests.reliability.figures import report
from tests.reliability.test_contention import _expected_rows
from tests.sync.processes import ROOT, EmulatorProcess, authorized_environment, sync_process
from tests.sync.support import assert_landing_equals

READER = Path(__file__).with_name("snapshot_reader.py")


def _start_reader(
    env: dict[str, str], via: str, stop_file: Path, output: Path
) -> subprocess.Popen[str]:
    """A reader process writing to a file (a reader blocked on a full pipe would stall)."""
    with output.open("w") as sink:
        return subprocess.Popen(
            [
                sys.executable,
                str(READER),
                env["OUTREACH_DUCKDB_PATH"],
                f"--via={via}",
                f"--stop-file={stop_file}",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        )


def run_readers_during_sync(
    tmp_path: Path,
    emulator_args: tuple[str, ...],
    faults: dict[str, Any],
    sync_args: tuple[str, ...],
    interval: float,
    sync_timeout: float,
    check_rows: bool,
) -> dict[str, Any]:
    emulator = EmulatorProcess(*emulator_args)
    try:
        env = authorized_environment(emulator, tmp_path)
        env["OUTREACH_READ_SNAPSHOT_INTERVAL"] = str(interval)
        db_path = Path(env["OUTREACH_DUCKDB_PATH"])
        emulator.admin.post("/faults", json=faults)
        stop_file = tmp_path / "stop"
        outputs = {via: tmp_path / f"reader-{via}.jsonl" for via in ("duckdb", "sql")}
        started = time.monotonic()
        child = sync_process(env, *sync_args)
        readers = []
        try:
            # The documented path exists once the sync's first commit is published.
            while not snapshot_path(db_path).exists():
                assert child.poll() is None, child.communicate()
                assert time.monotonic() - started < 60, "no snapshot published"
                time.sleep(0.01)
            readers = [
                _start_reader(env, via, stop_file, output) for via, output in outputs.items()
            ]
            _, err = child.communicate(timeout=sync_timeout)
            sync_seconds = time.monotonic() - started
        finally:
            stop_file.touch()
            child.kill()
            for reader in readers:
                reader.wait(timeout=60)
        assert child.returncode == 0, err
        assert_landing_equals(emulator.records, db_path)
        streams = [s for s in catalog().values() if s.incremental]
        records = {s.path: emulator.records(s.path) for s in streams} if check_rows else {}
    finally:
        emulator.stop()

    reads = {
        via: [json.loads(line) for line in out.read_text().splitlines()]
        for via, out in outputs.items()
    }
    errors = [read["error"] for lines in reads.values() for read in lines if "error" in read]
    assert not errors, errors[:3]
    mid_load = 0
    for lines in reads.values():
        assert len(lines) >= 2
        for before, after in pairwise(lines):
            for stream in catalog().values():
                # A full-sync stream is swapped in whole: its count may change either way.
                if stream.incremental:
                    assert (
                        after["state"][stream.path]["rows"] >= before["state"][stream.path]["rows"]
                    )
        for read in lines:
            for stream in streams:
                state = read["state"][stream.path]
                mid_load += state["resume_url"] is not None
                if check_rows:
                    assert state["rows"] == _expected_rows(records[stream.path], state), (
                        stream.path,
                        state,
                    )
    waits = {via: max(read["wait"] for read in lines) for via, lines in reads.items()}
    figures = {
        "sync_seconds": round(sync_seconds, 1),
        "reads": {via: len(lines) for via, lines in reads.items()},
        "max_wait_s": {via: round(wait, 3) for via, wait in waits.items()},
        "stream_states_mid_load": mid_load,
    }
    assert max(waits.values()) < 1.0, figures
    assert is_current(db_path), "the sync's last commits are published when it ends"
    return figures


def test_readers_never_wait_and_see_whole_batches(tmp_path: Path) -> None:
    # Pages of at most 62 records (a 502 above 50 halves the size) and slow answers: a sync
    # of many batches over several seconds; a snapshot published at least every 0.5 s.
    figures = run_readers_during_sync(
        tmp_path,
        ("--seed", "8", "--scale", "250"),
        {"page_size_limits": {s.path: 50 for s in catalog().values()}, "latency": 0.05},
        # One chain per stream: the oracle reads a single next-page link.
        ("--batch-rows", "200", "--chains-per-stream", "1"),
        interval=0.5,
        sync_timeout=180,
        check_rows=True,
    )
    report("reads_during_sync", **figures)
    assert figures["stream_states_mid_load"] > 0


@pytest.mark.slow
def test_readers_during_a_full_refresh_at_scale_20000(tmp_path: Path) -> None:
    """The issue's case, with the default interval (30 s)."""
    figures = run_readers_during_sync(
        tmp_path,
        ("--seed", "1", "--scale", "20000"),
        {},
        ("--full-refresh",),
        interval=30.0,
        sync_timeout=600,
        check_rows=False,
    )
    report("reads_during_sync_20000", **figures)
