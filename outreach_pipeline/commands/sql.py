"""`outreach-pipeline sql "SELECT ..."`: query the landing read-only and print a table;
without a query, an interactive shell (``sql_shell``).

It reads the landing's read snapshot (``landing/reading.py``), which the sync publishes
between batches, so a query starts at once while a sync runs and never holds the sync up.
Views in the main schema (``prospects``, ``accounts``, ...) hold the current, non-deleted
rows; ``outreach.*`` the raw tables and ``outreach.sync_runs``. ``--grant NAME`` reads that
grant's landing; ``--all`` every stored grant's at once, under the same names, each row with
a leading ``grant`` column (``landing/grant_union.py``).

The query reaches the landing and nothing else: DuckDB's external access is off (no file is
read or written, no database attached, no extension installed or loaded: ``read_text`` of the
token store, ``COPY ... TO`` and ``EXPORT DATABASE`` are refused) and the configuration is
locked, so the query cannot ``SET`` it back on. With ``--all`` the grants' files are attached
first, read-only, and external access is switched off before the query runs; ``DETACH`` is
refused, as a grant detached could be attached again for writing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from outreach_pipeline.commands.errors import UserFacingError
from outreach_pipeline.commands.grant_choice import (
    add_grant_options,
    chosen_grant,
    every_stored_grant,
)
from outreach_pipeline.commands.sql_shell import run_shell
from outreach_pipeline.commands.tables import format_table
from outreach_pipeline.landing import (
    DatabaseBusy,
    GrantLanding,
    OwnerOnlyUmask,
    open_for_reading,
    open_grants_for_reading,
)
from outreach_pipeline.settings import DEFAULT_GRANT, Settings, load_settings

# Read-only covers the database, not the rest of the machine: this covers the rest.
LANDING_ONLY = {"enable_external_access": "false", "lock_configuration": "true"}
LOCK_TIMEOUT = 30.0

# Opens what a query reads (UserFacingError when there is nothing to read).
Reader = Callable[[], duckdb.DuckDBPyConnection]


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
    add_grant_options(
        parser,
        "query this grant's database",
        "--all",
        "query every stored grant's database at once: each table and view holds every "
        "grant's rows, with a leading 'grant' column",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for option, value in (("--max-rows", args.max_rows), ("--max-width", args.max_width)):
        if value < 1:
            raise UserFacingError(f"{option} must be at least 1, not {value}")
    settings = load_settings()
    if args.all_grants:
        reader = grants_reader(every_stored_grant(settings))
    else:
        settings = chosen_grant(settings, args.grant)
        reader = landing_reader(settings.grant_duckdb_path, _sync_command(settings))
    if args.query is None:
        return run_shell(lambda text: print_query(reader, text, args.max_rows, args.max_width))
    print_query(reader, args.query, args.max_rows, args.max_width)
    return 0


def landing_reader(db_path: Path, sync_command: str = "outreach-pipeline sync") -> Reader:
    """Opens the read snapshot of the landing at ``db_path`` (which must exist now, and when
    it is opened: ``sync_command`` makes it)."""
    _check_exists(db_path, sync_command)

    def read() -> duckdb.DuckDBPyConnection:
        _check_exists(db_path, sync_command)
        return open_for_reading(db_path, lock_timeout=LOCK_TIMEOUT, config=LANDING_ONLY)

    return read


def grants_reader(grants: list[Settings]) -> Reader:
    """Opens the read snapshots of every grant in ``grants`` that has a landing, as one (the
    others are left out, with a note)."""
    landings = []
    for settings in grants:
        path = settings.grant_duckdb_path
        if path.is_file():
            landings.append(GrantLanding(settings.grant, path))
        else:
            print(
                f"note: grant {settings.grant} has no database yet ({path}), left out; "
                f"'{_sync_command(settings)}' makes it",
                file=sys.stderr,
            )
    if not landings:
        raise UserFacingError(
            "no stored grant has a database yet; run 'outreach-pipeline sync --all-grants' first"
        )

    def read() -> duckdb.DuckDBPyConnection:
        for landing in landings:
            _check_exists(landing.db_path, f"outreach-pipeline sync --grant {landing.grant}")
        return open_grants_for_reading(landings, lock_timeout=LOCK_TIMEOUT, config=LANDING_ONLY)

    return read


def print_query(read: Reader, query: str, max_rows: int = 100, max_width: int = 60) -> None:
    """Run ``query`` on what ``read`` opens (the landing's read snapshot) and print the rows
    as a table.

    DuckDB's whole message is kept on an error: its hint ("Did you mean ...?", candidate
    columns) and the caret under the place in the query come after the first line."""
    OwnerOnlyUmask.hold()  # a query spilling to disk writes customer data beside the file
    try:
        try:
            con = read()
        except DatabaseBusy as error:
            raise UserFacingError(str(error)) from error
        try:
            statements = con.extract_statements(query)
            if not statements:
                raise UserFacingError(
                    'the query is empty: give a SQL statement, e.g. "SELECT count(*) FROM '
                    'prospects", or no argument for a shell'
                )
            if any(s.type == duckdb.StatementType.DETACH for s in statements):
                # With --all, a grant detached could be attached again for writing.
                raise UserFacingError("DETACH is refused: the query reads the landing as it is")
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


def _check_exists(db_path: Path, sync_command: str) -> None:
    if not Path(db_path).is_file():
        raise UserFacingError(f"no database at {db_path}; run '{sync_command}' first")


def _sync_command(settings: Settings) -> str:
    """The command that makes the landing of ``settings``' grant."""
    if settings.grant == DEFAULT_GRANT:
        return "outreach-pipeline sync"
    return f"outreach-pipeline sync --grant {settings.grant}"


def _cell(value: Any, width: int) -> str:
    text = "NULL" if value is None else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
