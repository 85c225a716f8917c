"""`outreach-pipeline sync`: bring the DuckDB landing up to date and print what each stream did."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import duckdb
from rich.console import Console

from outreach_pipeline.auth import AuthError
from outreach_pipeline.catalog import Stream, select
from outreach_pipeline.client import ApiUnusable, Interrupted
from outreach_pipeline.commands.errors import UserFacingError
from outreach_pipeline.commands.grant_choice import (
    add_grant_options,
    chosen_grant,
    every_stored_grant,
)
from outreach_pipeline.commands.stopping import StopOnSignal
from outreach_pipeline.commands.sync_progress import LiveTable, PlainLines, outcome, run_outcome
from outreach_pipeline.commands.tables import format_table
from outreach_pipeline.landing import DatabaseBusy
from outreach_pipeline.redaction import redact
from outreach_pipeline.settings import DEFAULT_GRANT, Settings, load_settings
from outreach_pipeline.sync import (
    StreamResult,
    SyncOptions,
    SyncProgress,
    run_sync,
    tune_process_memory,
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Fetch what changed since the last run (or everything, the first time) "
        "into OUTREACH_DUCKDB_PATH and print a summary per stream."
    )
    parser.add_argument(
        "--streams",
        help="comma-separated stream paths (default: all but the admin-only "
        "complianceRequests and webhooks)",
    )
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
        "--chains-per-stream",
        type=int,
        default=SyncOptions().chains_per_stream,
        metavar="N",
        help="read a long stream's first load as up to N chains of pages at once, its window "
        "cut in time (default %(default)s; 1: one chain, e.g. for an API that ignores filters)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=SyncOptions().writer_lock_wait,
        metavar="SECONDS",
        help="while another sync writes the same database, wait this long for it to finish "
        "before giving up (default %(default).0f; 0: give up at once)",
    )
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--quiet", action="store_true", help="print nothing but errors (no progress, no summary)"
    )
    shown.add_argument(
        "--verbose", action="store_true", help="also log each retry and warning in detail"
    )
    add_grant_options(
        parser,
        "sync this grant into its own database",
        "--all-grants",
        "sync every stored grant, one after the other; a grant that fails does not stop the "
        "others (exit 1 if any failed)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the summary as one JSON object (run id, database, wall time, streams)",
    )
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class Output:
    """What the command prints: progress on stderr (unless ``quiet``), then the summary on
    stdout as a table or ``json`` (unless ``quiet``); ``verbose`` adds the log records."""

    quiet: bool = False
    verbose: bool = False
    json: bool = False


def run(args: argparse.Namespace) -> int:
    if args.batch_rows < 1:
        raise UserFacingError("--batch-rows must be at least 1")
    if not args.wait >= 0:
        raise UserFacingError("--wait must be 0 or more seconds")
    if args.chains_per_stream < 1:
        raise UserFacingError("--chains-per-stream must be at least 1")
    options = SyncOptions(
        batch_rows=args.batch_rows,
        writer_lock_wait=args.wait,
        chains_per_stream=args.chains_per_stream,
    )
    output = Output(quiet=args.quiet, verbose=args.verbose, json=args.json)
    try:
        chosen = select(args.streams)
    except KeyError as error:
        raise UserFacingError(str(error.args[0])) from error
    settings = load_settings()
    if output.verbose:
        logging.basicConfig(
            level=logging.INFO,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    tune_process_memory()  # this process is the sync's alone
    sync = Sync(chosen, args.full_refresh, args.sweep_deletes, options, output)
    if args.all_grants:
        return sync_each(every_stored_grant(settings), sync)
    return sync.execute(chosen_grant(settings, args.grant))


@dataclass(frozen=True)
class Sync:
    """One ``sync`` command's choices, run for one grant at a time."""

    streams: Sequence[Stream]
    full_refresh: bool
    sweep_deletes: bool
    options: SyncOptions
    output: Output

    def execute(
        self, settings: Settings, out: TextIO = sys.stdout, err: TextIO = sys.stderr
    ) -> int:
        """Sync the grant of ``settings``, showing its progress, and print the summary. Exit
        code 1 when any stream failed; 128 + the signal's number when SIGINT or SIGTERM
        stopped it."""
        started = time.monotonic()
        try:
            with StopOnSignal() as stopping, _progress(self.output, err) as progress:
                results = run_sync(
                    settings,
                    self.streams,
                    full_refresh=self.full_refresh,
                    sweep_deletes=self.sweep_deletes,
                    options=self.options,
                    stop=stopping.event,
                    progress=progress,
                )
        except (AuthError, DatabaseBusy) as error:
            # Every auth failure carries a one-line message saying what to do (auth.errors).
            raise UserFacingError(str(error)) from error
        except ApiUnusable as error:
            raise UserFacingError(error.problem) from error
        except Interrupted as error:
            # Stopped before any stream started: waiting for another sync, or for a token.
            by = stopping.signal.name if stopping.signal else "request"
            print(f"interrupted by {by} ({error}): nothing was synced", file=err)
            return stopping.exit_code
        except (duckdb.IOException, duckdb.TransactionException, OSError) as error:
            # A full disk or a read-only file or folder: each batch committed before it is kept.
            problem = str(error).splitlines()[0]
            raise UserFacingError(
                f"cannot write {settings.grant_duckdb_path} ({problem}); batches committed so "
                "far are kept: free space or make it writable, then sync again to resume"
            ) from error
        summary = RunSummary(
            results, time.monotonic() - started, settings.grant_duckdb_path, settings.grant
        )
        if self.output.json:
            out.write(json.dumps(summary.as_json()) + "\n")
        elif not self.output.quiet:
            out.write(summary_table(results, summary.wall_s))
            out.write(summary.footer() + "\n")
        failed = [r for r in results if r.error and not r.interrupted]
        for result in failed:
            print(f"error: {result.error}", file=err)
        if stopping.signal is not None:
            print(
                f"interrupted by {stopping.signal.name}: {summary.records} rows written before "
                f"it are kept in {settings.grant_duckdb_path}; sync again to resume",
                file=err,
            )
            return stopping.exit_code
        return 1 if failed else 0


def sync_each(grants: Sequence[Settings], sync: Sync, err: TextIO = sys.stderr) -> int:
    """``sync`` of each grant in turn. A grant that fails (a dead grant, a busy database) is
    said in one line naming it, and the next grant syncs; a signal stops them all. Exit code
    1 when any failed, else 0; 128 + the signal's number when one stopped it."""
    failed: list[str] = []
    for settings in grants:
        if not sync.output.quiet and not sync.output.json:
            print(f"grant {settings.grant}:", file=err)
        try:
            code = sync.execute(settings)
        except UserFacingError as error:
            print(f"outreach-pipeline sync: grant {settings.grant}: {redact(str(error))}", file=err)
            code = 1
        if code > 1:
            return code
        if code:
            failed.append(settings.grant)
    if failed:
        print(f"grants that failed: {', '.join(failed)}", file=err)
    return 1 if failed else 0


def _progress(output: Output, err: TextIO) -> AbstractContextManager[SyncProgress]:
    if output.quiet:
        return nullcontext(SyncProgress())
    if err.isatty():
        return LiveTable(Console(file=err))
    return nullcontext(PlainLines(err))


@dataclass(frozen=True)
class RunSummary:
    """A run's totals, over the wall time it took (streams overlap)."""

    results: Sequence[StreamResult]
    wall_s: float
    database: Path
    grant: str = DEFAULT_GRANT

    @property
    def records(self) -> int:
        return sum(r.records for r in self.results)

    @property
    def run_id(self) -> str:
        return next((r.run_id for r in self.results), "")

    @property
    def records_per_s(self) -> float:
        return self.records / self.wall_s if self.wall_s > 0 else 0.0

    def footer(self) -> str:
        return (
            f"run {self.run_id}: {self.records} rows in {self.wall_s:.1f} s "
            f"({self.records_per_s:,.0f} rows/s) into {self.database}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "grant": self.grant,
            "database": str(self.database),
            "wall_s": round(self.wall_s, 3),
            "records": self.records,
            "records_per_s": round(self.records_per_s, 1),
            "ok": all(r.ok for r in self.results),
            "interrupted": any(r.interrupted for r in self.results),
            "streams": [asdict(r) for r in self.results],
        }


def summary_table(results: Sequence[StreamResult], wall_s: float) -> str:
    """stream | rows | deleted | requests | seconds | status, one line per stream and a total
    (its seconds: ``wall_s``, the run's wall time)."""
    header = ("stream", "rows", "deleted", "requests", "seconds", "status")
    lines = [
        (
            r.stream,
            str(r.records),
            str(r.records_deleted),
            str(r.requests),
            f"{r.duration_s:.1f}",
            outcome(r),
        )
        for r in results
    ]
    lines.append(
        (
            "total",
            str(sum(r.records for r in results)),
            str(sum(r.records_deleted for r in results)),
            str(sum(r.requests for r in results)),
            f"{wall_s:.1f}",
            run_outcome(results),
        )
    )
    return format_table(header, lines)
