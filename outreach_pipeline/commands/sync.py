"""`outreach-pipeline sync`: not built yet (see the project's open issues)."""

import argparse

from outreach_pipeline.cli import UserFacingError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sync", help="(not built yet)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise UserFacingError("'sync' is not built yet")
