"""A reader process for tests/hostile/test_reads_during_sync.py: reads every stream's row
count and saved state through the documented read path until a stop file appears, printing
one JSON line per read: ``{"wait": seconds before the query ran, "state": {...}}`` or
``{"error": message}``.

``--via duckdb``: ``duckdb.connect(<read snapshot>, read_only=True)`` as a BI tool would,
every ``--pause`` seconds. ``--via sql``: the ``outreach-pipeline sql`` command in a child
process, back to back; its wait is from the command's start (once Python has imported it,
which takes 0.2-0.8 s on a busy machine, sync or not) to its query's transaction start.
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


# ``outreach-pipeline sql``'s entry point, saying when it starts (its modules imported).
SQL_COMMAND = (
    "import sys, time; from outreach_pipeline.cli import build_parser, main; build_parser('sql'); "
    "print(time.time(), file=sys.stderr, flush=True); sys.exit(main(sys.argv[1:]))"
)


def read_with_sql() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SQL_COMMAND, "sql", "--max-width=1000000", SQL_READ],
        capture_output=True,
        text=True,
        check=False,
    )
    started, _, error = done.stderr.partition("\n")
    if done.returncode != 0:
        return {"error": error.strip()}
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
    return {"wait": int(began) / 1000 - float(started), "state": state}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db_path", type=Path)
    parser.add_argument("--via", choices=("duckdb", "sql"), required=True)
    parser.add_argument("--stop-file", type=Path, required=True)
    parser.add_argument("--pause", type=float, default=0.05)
    args = parser.parse_args()
    while not args.stop_file.exists():
        try:
            line = read_with_duckdb(args.db_path) if args.via == "duckdb" else read_with_sql()
        except duckdb.Error as error:
            line = {"error": str(error)}
        print(json.dumps(line), flush=True)
        if args.via == "duckdb":
            time.sleep(args.pause)


if __name__ == "__main__":
    main()
