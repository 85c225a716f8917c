"""What a DuckDB landing holds, read in one transaction: rows per stream table and each
stream's saved state. The reliability cases compare it before and after failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from outreach_pipeline.catalog import catalog


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """``{stream path: {"rows", "cursor", "resume_url"}}`` as one consistent read."""
    streams = list(catalog().values())
    counts = " UNION ALL ".join(
        f"SELECT '{s.path}', count(*) FROM outreach.\"{s.table}\"" for s in streams
    )
    con.execute("BEGIN TRANSACTION")
    try:
        rows = dict(con.execute(counts).fetchall())
        states = {
            stream: (cursor, resume_url)
            for stream, cursor, resume_url in con.execute(
                "SELECT stream, cursor, resume_url FROM outreach._sync_state"
            ).fetchall()
        }
    finally:
        con.execute("COMMIT")
    return {
        s.path: {
            "rows": rows[s.path],
            "cursor": states.get(s.path, (None, None))[0],
            "resume_url": states.get(s.path, (None, None))[1],
        }
        for s in streams
    }


def read_snapshot(db_path: Path) -> dict[str, dict[str, Any]]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return snapshot(con)


def inserted_by_last_run(db_path: Path) -> dict[str, int]:
    """Rows each stream inserted in the latest run (``outreach.sync_runs``): after a failure,
    a run that resumes inserts only what the failed one had not committed."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        return dict(
            con.execute(
                "SELECT stream, records_inserted FROM outreach.sync_runs WHERE run_id = "
                "(SELECT arg_max(run_id, finished_at) FROM outreach.sync_runs)"
            ).fetchall()
        )
