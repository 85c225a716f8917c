"""Issue 16, section 2: what ``outreach-pipeline sync`` prints while and after it runs.

Not on a terminal (a pipe here): one line per stream start and finish, naming the stream; the
summary on stdout with the wall time, rows/s, run id and database; ``--json`` the same as
one JSON object; ``--quiet`` nothing at all when nothing fails."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.processes import EmulatorProcess, authorized_environment, sync_process

STREAMS = ("prospects", "accounts", "users")


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    emulator = EmulatorProcess("--scale", "200")
    try:
        yield authorized_environment(emulator, tmp_path)
    finally:
        emulator.stop()


def _sync(env: dict[str, str], *args: str) -> tuple[str, str]:
    process = sync_process(env, "--streams", ",".join(STREAMS), *args)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out, err


def test_progress_lines_summary_json_and_quiet(environment: dict[str, str]):
    db_path = environment["OUTREACH_DUCKDB_PATH"]
    out, err = _sync(environment)
    for stream in STREAMS:
        assert re.search(rf"^\d\d:\d\d:\d\d {stream}: started$", err, re.M), err
        assert re.search(rf"^\d\d:\d\d:\d\d {stream}: ok, \d+ rows, \d+ pages", err, re.M), err
    footer = out.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"run [0-9a-f]{{12}}: \d+ rows in [\d.]+ s \([\d,]+ rows/s\) into {re.escape(db_path)}",
        footer,
    ), out

    out, err = _sync(environment, "--json")
    summary = json.loads(out)
    assert summary["database"] == db_path
    assert re.fullmatch(r"[0-9a-f]{12}", summary["run_id"])
    assert summary["wall_s"] > 0 and summary["ok"] and not summary["interrupted"]
    assert [s["stream"] for s in summary["streams"]] == list(STREAMS)
    assert {s["run_id"] for s in summary["streams"]} == {summary["run_id"]}

    assert _sync(environment, "--quiet") == ("", "")
