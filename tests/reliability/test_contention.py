"""Case 7, DuckDB contention: while ``outreach-pipeline sync`` lands a first full load in
small batches, two reader processes, one read-only and one read-write, read every stream's
row count and state in a loop. Pages are kept small (the emulator answers 502 above 50
records and the client halves its page size) so that streams land over many batches. The sync
completes with exact data, and every snapshot a reader
saw is a batch boundary: a stream's rows are exactly the records before its saved next-page
link (decoded from the emulator's keyset cursor), none while it had not started, all once its
cursor is set. tests/sync/test_processes.py::test_a_concurrent_reader_does_not_fail_the_sync
is the lighter version (one read-only reader, completion only).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from outreach_pipeline.catalog import catalog
from tests.reliability.figures import report
from tests.sync.processes import ROOT, EmulatorProcess, authorized_environment, sync_process
from tests.sync.support import assert_landing_equals

READER = Path(__file__).with_name("reader.py")


def _keyset_position(resume_url: str) -> tuple[str, int, int]:
    """(sort field, sort value in ms, id) of the last record before ``resume_url``'s page."""
    cursor = parse_qs(urlsplit(resume_url).query)["page[after]"][0]
    field, _, key, record_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * 4))
    return field, int(key), int(record_id)


def _milliseconds(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


def _expected_rows(records: list[dict[str, Any]], state: dict[str, Any]) -> int | None:
    """Rows a consistent snapshot holds for this state (None: the stream is replaced whole)."""
    if state["cursor"] is not None:
        return len(records)
    if state["resume_url"] is None:
        return 0
    field, key, last_id = _keyset_position(state["resume_url"])
    return sum(
        1
        for r in records
        if (_milliseconds(r["attributes"][field]), int(r["id"])) <= (key, last_id)
    )


def _readers(
    db_path: Path, stop_file: Path, pause: float, outputs: list[Path]
) -> list[subprocess.Popen[str]]:
    """Reader processes writing their snapshots to ``outputs``: to files, not pipes, since a
    reader blocked on a full pipe would hold the database open and starve the sync."""
    readers = []
    for mode, output in zip(([], ["--read-write"]), outputs, strict=True):
        with output.open("w") as sink:
            readers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(READER),
                        str(db_path),
                        f"--stop-file={stop_file}",
                        f"--pause={pause}",
                        *mode,
                    ],
                    stdout=sink,
                    text=True,
                    cwd=ROOT,
                    env={"PYTHONPATH": str(ROOT)},
                )
            )
    return readers


def run_contention(tmp_path: Path, reader_pause: float, sync_timeout: float) -> None:
    emulator = EmulatorProcess("--seed", "8", "--scale", "250")
    try:
        env = authorized_environment(emulator, tmp_path)
        db_path = Path(env["OUTREACH_DUCKDB_PATH"])
        # Pages of at most 62 records (a 502 above 50 halves the size), so many batches.
        limits = {s.path: 50 for s in catalog().values()}
        # Slow answers leave the writer idle long enough to close the file between batches.
        emulator.admin.post("/faults", json={"page_size_limits": limits, "latency": 0.1})
        stop_file = tmp_path / "stop"
        reader_outputs = [tmp_path / "reader-ro.jsonl", tmp_path / "reader-rw.jsonl"]
        readers = _readers(db_path, stop_file, reader_pause, reader_outputs)
        # One chain per stream: the oracle reads a single next-page link.
        child = sync_process(env, "--batch-rows", "200", "--chains-per-stream", "1")
        try:
            _, err = child.communicate(timeout=sync_timeout)
        finally:
            stop_file.touch()
            child.kill()
        for reader in readers:
            reader.wait(timeout=60)
        outputs = [output.read_text() for output in reader_outputs]
        assert child.returncode == 0, err
        assert_landing_equals(emulator.records, db_path)
        streams = [s for s in catalog().values() if s.incremental]
        records = {s.path: emulator.records(s.path) for s in streams}
    finally:
        emulator.stop()
    snapshots = [json.loads(line) for out in outputs for line in out.splitlines()[:-1]]
    refused = sum(json.loads(out.splitlines()[-1])["refused"] for out in outputs)
    mid_load = 0
    for seen in snapshots:
        for stream in streams:
            state = seen[stream.path]
            mid_load += state["resume_url"] is not None
            assert state["rows"] == _expected_rows(records[stream.path], state), (stream, state)
    report(
        "contention",
        reader_pause=reader_pause,
        readers=len(readers),
        snapshots=len(snapshots),
        stream_states_mid_load=mid_load,
        refused_while_writing=refused,
    )
    assert all(reader.returncode == 0 for reader in readers)
    assert len(snapshots) >= 3 and mid_load > 0


# A soak (about 30-50 s): the default run covers whole batches seen by readers during a sync
# with tests/hostile/test_reads_during_sync.py; this runs on demand with `pytest -m soak`.
@pytest.mark.soak
def test_readers_only_ever_see_whole_batches(tmp_path: Path) -> None:
    run_contention(tmp_path, reader_pause=0.2, sync_timeout=120)


@pytest.mark.soak
def test_readers_polling_every_20_ms(tmp_path: Path) -> None:
    """Readers that reopen the file as fast as they can. It was an xfail while connect()'s
    retry pause grew to 1 s: a writer came back too seldom to find the file free and timed
    out in 2 of 3 runs. Capped at 0.1 s, it passed 3 of 3 runs in 36-41 s."""
    run_contention(tmp_path, reader_pause=0.02, sync_timeout=150)
