"""The sync as a separate process: killed at random points, and read from while it runs."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.sync.processes import ROOT, EmulatorProcess, authorized_environment, sync_process
from tests.sync.support import assert_landing_equals


@pytest.fixture
def emulator_process() -> Iterator[EmulatorProcess]:
    emulator = EmulatorProcess("--seed", "3", "--scale", "2000")
    yield emulator
    emulator.stop()


@pytest.fixture
def small_emulator_process() -> Iterator[EmulatorProcess]:
    emulator = EmulatorProcess("--seed", "4", "--scale", "600")
    yield emulator
    emulator.stop()


def _kill_and_rerun(emulator: EmulatorProcess, workdir: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    env = authorized_environment(emulator, workdir)
    for _ in range(kills):
        # Small batches, so kills land between committed batches of one stream too.
        child = sync_process(env, "--batch-rows", "500")
        time.sleep(rng.uniform(0.3, 3.0))
        child.kill()
        child.wait()
    finished = sync_process(env, "--sweep-deletes")
    out, err = finished.communicate(timeout=120)
    assert finished.returncode == 0, err
    assert "total" in out
    db_path = Path(env["OUTREACH_DUCKDB_PATH"])
    assert_landing_equals(emulator.records, db_path)
    # Nothing changed between the runs: each record has exactly one version in its history,
    # however many killed runs landed it.
    with duckdb.connect(str(db_path), read_only=True) as con:
        for table in ("accounts", "prospects", "opportunities", "sequence_states"):
            row = con.execute(
                f"SELECT (SELECT count(*) FROM outreach.{table}__history),"
                f" (SELECT count(DISTINCT id) FROM outreach.{table}__history),"
                f" (SELECT count(*) FROM outreach.{table})"
            ).fetchone()
            assert row is not None and row[0] == row[1] == row[2], (table, row)


def test_killed_syncs_resume_without_loss_or_duplicates(emulator_process, tmp_path: Path):
    _kill_and_rerun(emulator_process, tmp_path, kills=3, seed=11)


@pytest.mark.slow
def test_twenty_kills(emulator_process, tmp_path: Path):
    _kill_and_rerun(emulator_process, tmp_path, kills=20, seed=12)


READER = """
import sys, time, duckdb
deadline = time.time() + float(sys.argv[2])
ok = busy = 0
while time.time() < deadline:
    try:
        with duckdb.connect(sys.argv[1], read_only=True) as con:
            con.execute("SELECT count(*) FROM information_schema.tables").fetchall()
        ok += 1
    except duckdb.Error:
        busy += 1
    time.sleep(0.01)
print(ok, busy)
"""


def test_a_concurrent_reader_does_not_fail_the_sync(small_emulator_process, tmp_path: Path):
    emulator_process = small_emulator_process
    env = authorized_environment(emulator_process, tmp_path)
    db_path = Path(env["OUTREACH_DUCKDB_PATH"])
    first = sync_process(env, "--streams", "users")
    assert first.wait(timeout=60) == 0
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db_path), "4"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    child = sync_process(env)
    _, err = child.communicate(timeout=120)
    reads, _ = reader.communicate(timeout=30)
    assert child.returncode == 0, err
    assert int(reads.split()[0]) > 0, "the reader never got in"
    assert_landing_equals(emulator_process.records, db_path)
