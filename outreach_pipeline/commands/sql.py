"""`outreach-pipeline sql "SELECT ..."`: query the landing read-only and print a table.

It opens the DuckDB file read-only, waiting while a sync holds it for a batch, so it can run
while a sync is under way. Views in the main schema (``prospects``, ``accounts``, ...) hold
the current, non-deleted rows; ``outreach.*`` the raw tables and ``outreach.sync_runs``.

The query reaches the landing and nothing else: DuckDB's external access is off (no file is
read or written, no database attached, no extension installed or loaded: ``read_text`` of the
token store, ``COPY ... TO`` and ``EXPORT DATABASE`` are refused) and the configuration is
locked, so the query cannot ``SET`` it back on.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import duckdb

from outreach_pipeline.cli import UserFacingError
from outreach_pipeline.commands.sync import format_table
from outreach_pipeline.landing import DatabaseBusy, connect
from outreach_pipeline.settings import load_settings

# Read-only covers the database, not the rest of the machine: this covers the rest.
LANDING_ONLY = {"enable_external_access": "false", "lock_configuration": "true"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sql",
        help="run a read-only SQL query on the landing",
        description="Open OUTREACH_DUCKDB_PATH read-only, run QUERY and print the rows.",
    )
    parser.add_argument("query", help='e.g. "SELECT count(*) FROM prospects"')
    parser.add_argument("--max-rows", type=int, default=100, help="rows printed (default 100)")
    parser.add_argument("--max-width", type=int, default=60, help="characters per cell")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print_query(load_settings().duckdb_path, args.query, args.max_rows, args.max_width)
    return 0


def print_query(db_path: Path, query: str, max_rows: int = 100, max_width: int = 60) -> None:
    """Run ``query`` on the landing opened read-only and print the rows as a table."""
    if not Path(db_path).is_file():
        raise UserFacingError(f"no database at {db_path}; run 'outreach-pipeline sync' first")
    try:
        con = connect(Path(db_path), read_only=True, lock_timeout=30, config=LANDING_ONLY)
    except DatabaseBusy as error:
        raise UserFacingError(str(error)) from error
    try:
        cursor = con.execute(query)
        if cursor.description is None:
            return
        header = [d[0] for d in cursor.description]
        rows = cursor.fetchmany(max_rows + 1)
    except duckdb.Error as error:
        raise UserFacingError(str(error).splitlines()[0]) from error
    finally:
        con.close()
    shown = [[_cell(v, max_width) for v in row] for row in rows[:max_rows]]
    print(format_table(header, shown), end="")
    more = " (more not shown)" if len(rows) > max_rows else ""
    print(f"({len(shown)} row{'s' if len(shown) != 1 else ''}{more})")


def _cell(value: Any, width: int) -> str:
    text = "NULL" if value is None else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
