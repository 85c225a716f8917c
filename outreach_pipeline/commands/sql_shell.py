"""`outreach-pipeline sql` without a query: a small interactive SQL shell.

The project ships no DuckDB command-line shell (PyPI's ``duckdb-cli`` is 1.5.6, which refuses
files written by DuckDB 2.0), so this is the way to explore the landing after installing.
Statements end with ``;`` and may span lines; ``.tables``, ``.help`` and ``.quit`` are
commands. Each statement opens the read snapshot afresh, so the session sees what a running
sync publishes and never holds anything open between statements. With a terminal it keeps a
readline history; with piped input it prints no prompts and exits 1 if a statement failed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import TextIO

from outreach_pipeline.catalog import SCHEMA
from outreach_pipeline.commands.errors import UserFacingError
from outreach_pipeline.settings import state_directory

PROMPT = "sql> "
CONTINUED = " ..> "
TABLES = (
    "SELECT table_schema AS schema, table_name AS name, lower(table_type) AS kind "
    "FROM information_schema.tables WHERE table_catalog = current_database() "
    f"AND table_schema IN ('main', '{SCHEMA}') "
    "ORDER BY schema, name"
)
HELP = """\
Statements end with ';' and may span lines. Views in the main schema (prospects, accounts,
...) hold the current rows; outreach.<table> every row, outreach.sync_runs one per run.
With --all, each of them holds every grant's rows, named in a leading "grant" column.
  .tables   list the views and tables
  .help     this text
  .quit     leave (or Ctrl-D)
"""

Execute = Callable[[str], None]


def run_shell(execute: Execute, stdin: TextIO | None = None) -> int:
    """Read statements from ``stdin`` and run each with ``execute`` (which prints its result
    or raises ``UserFacingError``); 0 at the end of input or ``.quit``."""
    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    history = _History() if interactive else None
    failed = False
    try:
        if interactive:
            print("Read-only SQL on the landing; statements end with ';'. .help for more.")
        for entry in read_entries(_reader(stdin, interactive)):
            if entry in (".quit", ".exit"):
                break
            try:
                _run_entry(entry, execute)
            except UserFacingError as error:
                print(f"Error: {error}", file=sys.stderr)
                failed = True
            except KeyboardInterrupt:
                print("Interrupted", file=sys.stderr)
    finally:
        if history is not None:
            history.save()
    return 1 if failed and not interactive else 0


def _run_entry(entry: str, execute: Execute) -> None:
    if entry == ".tables":
        execute(TABLES)
    elif entry == ".help":
        print(HELP, end="")
    elif entry.startswith("."):
        raise UserFacingError(f"unknown command {entry.split()[0]}: .help lists them")
    else:
        execute(entry)


def read_entries(read_line: Callable[[bool], str | None]) -> Iterator[str]:
    """Statements (lines up to one ending with ';') and dot commands, from ``read_line``
    (given whether a statement is under way; None at the end of input). Ctrl-C drops the
    statement being typed; a last statement without ';' runs at the end of input."""
    lines: list[str] = []
    while True:
        try:
            line = read_line(bool(lines))
        except KeyboardInterrupt:
            print(file=sys.stderr)
            lines = []
            continue
        if line is None:
            break
        if not lines and (not line.strip() or line.strip().startswith(".")):
            if line.strip():
                yield line.strip()
            continue
        lines.append(line)
        if line.rstrip().endswith(";"):
            yield "\n".join(lines)
            lines = []
    if "".join(lines).strip():
        yield "\n".join(lines)


def _reader(stdin: TextIO, interactive: bool) -> Callable[[bool], str | None]:
    def read_line(continued: bool) -> str | None:
        if interactive:
            try:
                return input(CONTINUED if continued else PROMPT)
            except EOFError:
                print()
                return None
        line = stdin.readline()
        return line.rstrip("\n") if line else None

    return read_line


class _History:
    """readline history kept in ``$XDG_STATE_HOME/outreach-pipeline/sql_history`` (0600: the
    statements may quote customer data)."""

    def __init__(self) -> None:
        import readline  # here: only a terminal session needs it, and Windows lacks it

        self._readline = readline
        self.path = state_directory() / "sql_history"
        readline.set_history_length(1000)
        with suppress(OSError):  # none yet, or unreadable: start afresh
            readline.read_history_file(self.path)

    def save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            self._readline.write_history_file(self.path)
        except OSError as error:
            print(f"could not save the history in {self.path}: {error}", file=sys.stderr)
