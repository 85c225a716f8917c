"""The README's first command: the demo runs end to end and lands the emulator's data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from outreach_emulator import Emulator, EmulatorConfig
from outreach_pipeline.catalog import catalog

DEMO = [sys.executable, "-m", "outreach_pipeline.cli", "demo"]


def test_demo_authorizes_syncs_every_stream_and_prints_a_summary(tmp_path: Path) -> None:
    database = tmp_path / "demo.duckdb"
    done = subprocess.run(
        [*DEMO, "--seed", "3", "--scale", "60", "--database", str(database)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "Authorized as user1@" in done.stdout
    assert "total" in done.stdout and "FAILED" not in done.stdout
    assert "Qualified" in done.stdout or "Cold" in done.stdout  # the sample query's stages

    expected = Emulator(EmulatorConfig(seed=3, scale=60))
    with duckdb.connect(str(database), read_only=True) as con:
        for path in ("prospects", "accounts", "mailings", "events", "duties"):
            table = catalog()[path].table
            ids = sorted(r[0] for r in con.execute(f"SELECT id FROM outreach.{table}").fetchall())
            assert ids == sorted(int(r["id"]) for r in expected.data.records(path)), path
    grant_file = database.with_name(database.name + ".grant.json")
    assert grant_file.stat().st_mode & 0o777 == 0o600
    assert "access_token" not in done.stdout + done.stderr


def test_demo_reports_an_unusable_database_path_without_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = subprocess.run(
        [*DEMO, "--scale", "5", "--database", str(blocker / "demo.duckdb")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "cannot prepare" in done.stderr
    assert "Traceback" not in done.stderr
