"""The ``outreach-pipeline`` console script: one subcommand per module in ``commands/``.

Each command module exposes ``register(parser)``, adding its arguments and setting ``handler``
to a function taking the parsed arguments and returning an exit code. Only the module of the
command being run is imported: ``sync`` does not pay for the emulator or the SQL shell, and
``demo`` and ``emulator`` need the separate ``outreach-emulator`` package only when they run.
Expected failures (bad settings, a grant that needs reauthorization, bad input) are raised as
:class:`UserFacingError` or :class:`SettingsError` and printed as one line, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from outreach_pipeline.commands.errors import UserFacingError
from outreach_pipeline.redaction import redact
from outreach_pipeline.settings import SettingsError

# Each command and its one-line help (what ``outreach-pipeline --help`` lists without importing it).
COMMANDS = {
    "emulator": "run the Outreach API emulator (OAuth + REST) on loopback",
    "demo": "emulator + OAuth login + full sync + summary, all on this machine",
    "auth": "authorize access to Outreach, show or forget the grant",
    "sync": "sync Outreach streams into DuckDB",
    "sql": "run a read-only SQL query on the landing (no query: an interactive shell)",
}

EMULATOR_PACKAGE = "outreach_emulator"
EMULATOR_MISSING = (
    "needs the Outreach emulator (package outreach-emulator, in this repository's emulator/ "
    "folder), which is not installed: run `uv sync` in a checkout of the repository, "
    "or `pip install ./emulator`"
)


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (its first argument that is not an option)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command listed and ``command``'s own arguments registered."""
    parser = argparse.ArgumentParser(
        prog="outreach-pipeline",
        description="Keep Outreach data in DuckDB; emulate the Outreach API for tests and demos.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        command_parser = subparsers.add_parser(name, help=summary)
        if name == command:
            command_module(name).register(command_parser)
    return parser


def command_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(f"outreach_pipeline.commands.{name}")
    except ModuleNotFoundError as error:
        if error.name is None or error.name.partition(".")[0] != EMULATOR_PACKAGE:
            raise
        raise UserFacingError(EMULATOR_MISSING) from None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = command_in(arguments)
    try:
        args = build_parser(command).parse_args(arguments)
        return int(args.handler(args) or 0)
    except (UserFacingError, SettingsError) as error:
        print(f"outreach-pipeline {command}: {redact(str(error))}", file=sys.stderr)
        return getattr(error, "exit_code", 2)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
