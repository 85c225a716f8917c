"""`outreach-pipeline sql "SELECT ..."`: query the landing read-only and print a table;
without a query, an interactive shell (``sql_shell``).

It reads the landing's read snapshot (``landing/reading.py``), which the sync publishes
between batches, so a query starts at once while a sync runs and never holds the sync up.
Views in the main schema (``prospects``, ``accounts``, ...) hold the current, non-deleted
rows; ``outreach.*`` the raw tables and ``outreach.sync_runs``.

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

from outreach_pipeline.commands.errors import UserFacingError
from outreach_pipeline.commands.sql_shell import run_shell
from outreach_pipeline.commands.tables import format_table
from outreach_pipeline.landing import DatabaseBusy, OwnerOnlyUmask, open_for_reading
from outreach_pipeline.settings import load_settings

# Read-only covers the database, not the rest of the machine: this covers the rest.
LANDING_ONLY = {"enable_external_access": "false", "lock_configuration": "true"}


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run QUERY on the read snapshot of OUTREACH_DUCKDB_PATH and print the "
        "rows; without QUERY, read statements ending with ';' interactively."
    )
    parser.add_argument(
        "query", nargs="?", help='e.g. "SELECT count(*) FROM prospects"; omit for a shell'
    )
    parser.add_argument("--max-rows", type=int, default=100, help="rows printed (default 100)")
    parser.add_argument("--max-width", type=int, default=60, help="characters per cell")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for option, value in (("--max-rows", args.max_rows), ("--max-width", args.max_width)):
        if value < 1:
            raise UserFacingError(f"{option} must be at least 1, not {value}")
    db_path = load_settings().grant_duckdb_path
    if args.query is None:
        _check_exists(db_path)
        return run_shell(lambda text: print_query(db_path, text, args.max_rows, args.max_width))
    print_query(db_path, args.query, args.max_rows, args.max_width)
    return 0


def print_query(db_path: Path, query: str, max_rows: int = 100, max_width: int = 60) -> None:
    """Run ``query`` on the landing's read snapshot and print the rows as a table.

    DuckDB's whole message is kept on an error: its hint ("Did you mean ...?", candidate
    columns) and the caret under the place in the query come after the first line."""
    _check_exists(db_path)
    OwnerOnlyUmask.hold()  # a query spilling to disk writes customer data beside the file
    try:
        try:
            con = open_for_reading(Path(db_path), lock_timeout=30, config=LANDING_ONLY)
        except DatabaseBusy as error:
            raise UserFacingError(str(error)) from error
        try:
            if not con.extract_statements(query):
                raise UserFacingError(
                    'the query is empty: give a SQL statement, e.g. "SELECT count(*) FROM '
                    'prospects", or no argument for a shell'
                )
            cursor = con.execute(query)
            if cursor.description is None:
                return
            header = [d[0] for d in cursor.description]
            rows = cursor.fetchmany(max_rows + 1)
        except duckdb.Error as error:
            raise UserFacingError(str(error).strip()) from error
        finally:
            con.close()
    finally:
        OwnerOnlyUmask.release()
    shown = [[_cell(v, max_width) for v in row] for row in rows[:max_rows]]
    print(format_table(header, shown), end="")
    more = " (more not shown)" if len(rows) > max_rows else ""
    print(f"({len(shown)} row{'s' if len(shown) != 1 else ''}{more})")


def _check_exists(db_path: Path) -> None:
    if not Path(db_path).is_file():
        raise UserFacingError(f"no database at {db_path}; run 'outreach-pipeline sync' first")


def _cell(value: Any, width: int) -> str:
    text = "NULL" if value is None else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
