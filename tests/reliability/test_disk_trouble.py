"""Case 8, disk full or read-only database file: ``outreach-pipeline sync`` stops with one line
naming the file and the problem (exit code 2, no traceback), the rows committed before are
intact, and once the disk has room or the file is writable again the next run resumes: the
streams landed before insert nothing, and the landing equals the emulator's data.

Disk full is a 3 MB tmpfs (grown with a remount to fix it); read-only is ``chattr +i`` on the
file, which binds root too (root ignores file modes). Both need root and are skipped without.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.figures import report
from tests.reliability.landing_state import inserted_by_last_run, read_snapshot
from tests.reliability.mounts import small_disk
from tests.sync.processes import EmulatorProcess, authorized_environment, sync_process
from tests.sync.support import assert_landing_equals

FIRST = ("users", "accounts")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mount and chattr need root")


@pytest.fixture
def emulator_process() -> Iterator[EmulatorProcess]:
    emulator = EmulatorProcess("--seed", "9", "--scale", "600")
    yield emulator
    emulator.stop()


def _sync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    child = sync_process(env, "--batch-rows", "500", *args)
    try:
        out, err = child.communicate(timeout=30)  # syncs here take under 10 s
    finally:
        child.kill()  # a hung sync must not keep the tmpfs busy
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def _fail_then_resume(
    emulator: EmulatorProcess, env: dict[str, str], break_it, fix_it, problem: str
) -> None:
    """First streams land; ``break_it``; a full sync fails clearly keeping them; ``fix_it``;
    the next run resumes to exact data."""
    db_path = Path(env["OUTREACH_DUCKDB_PATH"])
    assert _sync(env, "--streams", ",".join(FIRST)).returncode == 0
    before = read_snapshot(db_path)
    break_it()
    try:
        failed = _sync(env)
    finally:
        fix_it()
    kept = read_snapshot(db_path)
    resumed = _sync(env)
    assert resumed.returncode == 0, resumed.stderr
    assert_landing_equals(emulator.records, db_path)
    inserted = inserted_by_last_run(db_path)

    assert failed.returncode == 2, failed.stderr
    assert "Traceback" not in failed.stderr, failed.stderr
    message = failed.stderr.strip().splitlines()[-1]
    assert message.startswith(f"outreach-pipeline sync: cannot write {db_path} ("), message
    assert problem in message and "sync again to resume" in message, message
    assert all(kept[s]["rows"] == before[s]["rows"] > 0 for s in FIRST), (before, kept)
    assert all(inserted[s] == 0 for s in FIRST), inserted
    report(
        f"disk trouble: {problem}",
        message=message.replace(str(db_path.parent), "<dir>"),
        rows_kept=sum(s["rows"] for s in kept.values()),
        rows_landed_by_failed_run=sum(s["rows"] for s in kept.values())
        - sum(s["rows"] for s in before.values()),
        resumed_inserted=sum(inserted.values()),
    )


def test_a_full_disk(emulator_process: EmulatorProcess, tmp_path: Path) -> None:
    env = authorized_environment(emulator_process, tmp_path)
    with small_disk(tmp_path / "disk", "6m") as disk:
        env["OUTREACH_DUCKDB_PATH"] = str(disk / "landing.duckdb")

        def grow() -> None:
            subprocess.run(["mount", "-o", "remount,size=200m", str(disk)], check=True)

        _fail_then_resume(emulator_process, env, lambda: None, grow, "No space left on device")


def test_a_read_only_database_file(emulator_process: EmulatorProcess, tmp_path: Path) -> None:
    if shutil.which("chattr") is None:
        pytest.skip("no chattr to make the file immutable")
    env = authorized_environment(emulator_process, tmp_path)
    db_file = env["OUTREACH_DUCKDB_PATH"]

    def immutable(flag: str) -> None:
        done = subprocess.run(["chattr", flag, db_file], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"chattr {flag} refused: {done.stderr.strip()}")

    _fail_then_resume(
        emulator_process,
        env,
        lambda: immutable("+i"),
        lambda: immutable("-i"),
        "Operation not permitted",
    )
