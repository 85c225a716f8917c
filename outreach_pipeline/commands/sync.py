"""`outreach-pipeline sync`: bring the DuckDB landing up to date and print what each stream did."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

import duckdb
import httpx

from outreach_pipeline.auth import AuthError
from outreach_pipeline.catalog import select
from outreach_pipeline.cli import UserFacingError
from outreach_pipeline.landing import DatabaseBusy
from outreach_pipeline.settings import load_settings
from outreach_pipeline.sync import StreamResult, SyncOptions, run_sync


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="sync Outreach streams into DuckDB",
        description="Fetch what changed since the last run (or everything, the first time) "
        "into OUTREACH_DUCKDB_PATH and print a summary per stream.",
    )
    parser.add_argument("--streams", help="comma-separated stream paths (default: all)")
    parser.add_argument(
        "--full-refresh", action="store_true", help="fetch everything, ignoring saved cursors"
    )
    parser.add_argument(
        "--sweep-deletes",
        action="store_true",
        help="also list every id and mark rows deleted in Outreach (otherwise weekly)",
    )
    parser.add_argument(
        "--batch-rows",
        type=int,
        default=SyncOptions().batch_rows,
        help="rows committed per batch (default %(default)s); smaller uses less memory",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=SyncOptions().writer_lock_wait,
        metavar="SECONDS",
        help="while another sync writes the same database, wait this long for it to finish "
        "before giving up (default %(default).0f; 0: give up at once)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.batch_rows < 1:
        raise UserFacingError("--batch-rows must be at least 1")
    if not args.wait >= 0:
        raise UserFacingError("--wait must be 0 or more seconds")
    options = SyncOptions(batch_rows=args.batch_rows, writer_lock_wait=args.wait)
    return execute(args.streams, args.full_refresh, args.sweep_deletes, options=options)


def execute(
    streams: str | None,
    full_refresh: bool = False,
    sweep_deletes: bool = False,
    auth: httpx.Auth | None = None,
    options: SyncOptions | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """Run the sync and print the summary; exit code 1 when any stream failed."""
    settings = load_settings()
    try:
        chosen = select(streams)
    except KeyError as error:
        raise UserFacingError(str(error.args[0])) from error
    try:
        results = run_sync(
            settings,
            chosen,
            full_refresh=full_refresh,
            sweep_deletes=sweep_deletes,
            auth=auth,
            options=options,
        )
    except (AuthError, DatabaseBusy) as error:
        # Every auth failure carries a one-line message saying what to do (auth.errors).
        raise UserFacingError(str(error)) from error
    except (duckdb.IOException, duckdb.TransactionException, OSError) as error:
        # A full disk or a read-only file or folder: each batch committed before it is kept.
        problem = str(error).splitlines()[0]
        raise UserFacingError(
            f"cannot write {settings.duckdb_path} ({problem}); batches committed so far are "
            "kept: free space or make it writable, then sync again to resume"
        ) from error
    out.write(summary_table(results))
    failed = [r for r in results if r.error]
    for result in failed:
        print(f"error: {result.error}", file=sys.stderr)
    return 1 if failed else 0


def summary_table(results: Sequence[StreamResult]) -> str:
    """stream | rows | deleted | requests | seconds | status, one line per stream and a total."""
    header = ("stream", "rows", "deleted", "requests", "seconds", "status")
    lines = [
        (
            r.stream,
            str(r.records),
            str(r.records_deleted),
            str(r.requests),
            f"{r.duration_s:.1f}",
            "ok" if r.ok else "FAILED",
        )
        for r in results
    ]
    lines.append(
        (
            "total",
            str(sum(r.records for r in results)),
            str(sum(r.records_deleted for r in results)),
            str(sum(r.requests for r in results)),
            f"{max((r.duration_s for r in results), default=0.0):.1f}",
            "ok" if all(r.ok for r in results) else "FAILED",
        )
    )
    return format_table(header, lines)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table, numbers right-aligned."""
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows, strict=True)]

    def line(values: Sequence[str]) -> str:
        cells = [
            v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(values, widths, strict=True)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)]) + "\n"


def _numeric(value: str) -> bool:
    return value.replace(".", "", 1).replace("-", "", 1).isdigit()
