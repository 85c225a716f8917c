"""A reader process for tests/hostile/test_reads_during_sync.py: reads every stream's row
count and saved state through the documented read path until a stop file appears, printing
one JSON line per read: ``{"wait": seconds before the query ran, "state": {...}}`` or
``{"error": message}``.

``--via duckdb``: ``duckdb.connect(<read snapshot>, read_only=True)`` as a BI tool would,
every ``--pause`` seconds. ``--via sql``: ``outreach-pipeline sql`` in a child process, back to
back; its wait is from starting the child to the query's transaction start, less the child's
start-up (``--startup``, measured on an idle landing).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from outreach_pipeline.catalog import catalog
from outreach_pipeline.landing.read_snapshot import snapshot_path
from tests.reliability.landing_state import snapshot

STREAMS = list(catalog().values())
COUNTS = " UNION ALL ".join(
    f"SELECT '{s.path}' AS stream, count(*) AS n FROM outreach.\"{s.table}\"" for s in STREAMS
)
# One statement, so one consistent read; one value per row, so the table is easy to parse.
SQL_READ = f"""
SELECT v FROM (
  SELECT 1 AS k, CAST(epoch_ms(current_timestamp) AS VARCHAR) AS v
  UNION ALL SELECT 2, CAST(to_json((SELECT list(c) FROM ({COUNTS}) c)) AS VARCHAR)
  UNION ALL SELECT 3, CAST(to_json((SELECT list(s) FROM
    (SELECT stream, cursor, resume_url FROM outreach._sync_state) s)) AS VARCHAR)
) ORDER BY k
"""


def read_with_duckdb(db_path: Path) -> dict[str, Any]:
    started = time.monotonic()
    with duckdb.connect(str(snapshot_path(db_path)), read_only=True) as con:
        wait = time.monotonic() - started
        return {"wait": wait, "state": snapshot(con)}


def read_with_sql(startup: float) -> dict[str, Any]:
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "outreach_pipeline.cli", "sql", "--max-width=1000000", SQL_READ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip()}
    began, counts, states = (line.strip() for line in done.stdout.splitlines()[2:5])
    rows = {c["stream"]: c["n"] for c in json.loads(counts)}
    saved = {s["stream"]: s for s in ([] if states == "NULL" else json.loads(states))}
    state = {
        s.path: {
            "rows": rows[s.path],
            "cursor": saved.get(s.path, {}).get("cursor"),
            "resume_url": saved.get(s.path, {}).get("resume_url"),
        }
        for s in STREAMS
    }
    return {"wait": int(began) / 1000 - started - startup, "state": state}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db_path", type=Path)
    parser.add_argument("--via", choices=("duckdb", "sql"), required=True)
    parser.add_argument("--stop-file", type=Path, required=True)
    parser.add_argument("--pause", type=float, default=0.05)
    parser.add_argument("--startup", type=float, default=0.0)
    args = parser.parse_args()
    while not args.stop_file.exists():
        try:
            if args.via == "duckdb":
                line = read_with_duckdb(args.db_path)
            else:
                line = read_with_sql(args.startup)
        except duckdb.Error as error:
            line = {"error": str(error)}
        print(json.dumps(line), flush=True)
        if args.via == "duckdb":
            time.sleep(args.pause)


if __name__ == "__main__":
    main()
