"""The ``outreach-pipeline`` console script: one subcommand per module in ``commands/``.

Each command module exposes ``register(subparsers)``, adding its parser and setting
``handler`` to a function taking the parsed arguments and returning an exit code. Expected
failures (bad settings, a grant that needs reauthorization, bad input) are raised as
:class:`UserFacingError` or :class:`SettingsError` and printed as one line, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from outreach_pipeline.redaction import redact
from outreach_pipeline.settings import SettingsError

COMMAND_MODULES = ("emulator", "demo", "auth", "sync", "sql")


class UserFacingError(Exception):
    """An expected failure whose message tells the user what to do; exits with ``exit_code``."""

    exit_code = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outreach-pipeline",
        description="Keep Outreach data in DuckDB; emulate the Outreach API for tests and demos.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"outreach_pipeline.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (UserFacingError, SettingsError) as error:
        print(f"outreach-pipeline {args.command}: {redact(str(error))}", file=sys.stderr)
        return getattr(error, "exit_code", 2)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Under ``python -m outreach_pipeline.cli`` this file runs as ``__main__``, a second copy of
    # the module: run the imported one so that commands and ``main`` share one UserFacingError.
    from outreach_pipeline.cli import main as imported_main

    sys.exit(imported_main())
