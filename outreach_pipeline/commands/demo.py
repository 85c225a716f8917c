"""`outreach-pipeline demo`: the whole pipeline against the emulator, in one command.

It starts the emulator in-process on a free loopback port, authorizes through the real OAuth
flow (the emulator auto-consents; the demo plays the browser by following the authorize URL to
the loopback listener), runs a full sync of every stream into a fresh database and prints a
summary and a sample query. Same seed and scale give the same data.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
from pydantic import SecretStr

from outreach_emulator import Emulator, EmulatorConfig
from outreach_pipeline.auth import build_auth, login
from outreach_pipeline.catalog import catalog, scopes_for
from outreach_pipeline.commands.errors import UserFacingError
from outreach_pipeline.commands.sql import landing_reader, print_query
from outreach_pipeline.commands.sync import summary_table
from outreach_pipeline.settings import Settings
from outreach_pipeline.sync import run_sync, tune_process_memory

SAMPLE_QUERY = """\
SELECT s.name AS stage, count(*) AS prospects, count(DISTINCT p.account_id) AS accounts
FROM prospects p JOIN stages s ON s.id = p.stage_id
GROUP BY s.name ORDER BY prospects DESC"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Start the Outreach emulator, authorize through the OAuth flow, sync every "
        "stream into a fresh DuckDB file and print a summary and a sample query."
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=int, default=2000, help="prospects (default 2000)")
    parser.add_argument(
        "--database",
        type=Path,
        default=Path("data/demo.duckdb"),
        help="DuckDB file, replaced on each run (default data/demo.duckdb)",
    )
    parser.set_defaults(handler=run)


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def play_browser(url: str) -> None:
    """Follow the authorize URL to the redirect, as a browser would, without blocking login."""

    def follow() -> None:
        with httpx.Client(follow_redirects=True, timeout=30) as browser:
            browser.get(url)

    threading.Thread(target=follow, name="demo-browser", daemon=True).start()


def fresh_files(database: Path) -> Path:
    """Remove the previous demo's database and grant; return the grant's path."""
    grant = database.with_name(database.name + ".grant.json")
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        for stale in (database, database.with_name(database.name + ".wal"), grant):
            stale.unlink(missing_ok=True)
    except OSError as error:
        raise UserFacingError(f"cannot prepare {database}: {error.strerror}") from error
    return grant


def run(args: argparse.Namespace) -> int:
    grant_path = fresh_files(args.database)
    redirect_uri = f"http://127.0.0.1:{free_loopback_port()}/callback"
    config = EmulatorConfig(
        seed=args.seed, scale=args.scale, auto_consent=True, redirect_uris=(redirect_uri,)
    )
    emulator = Emulator(config)
    streams = list(catalog().values())
    with emulator.serve(port=0):
        print(f"Emulator: {emulator.base_url} (seed {args.seed}, {args.scale} prospects)")
        settings = Settings(
            api_url=emulator.api_url,
            oauth_url=emulator.oauth_url,
            redirect_uri=redirect_uri,
            duckdb_path=args.database,
            token_store_path=grant_path,
            client_id=config.client_id,
            client_secret=SecretStr(config.client_secret),
        )
        grant = login(
            settings,
            "production",
            scopes_for(streams),
            show=lambda _message: None,
            open_browser=play_browser,
            stdin=sys.stdin,
            timeout=60,
        )
        print(f"Authorized as {grant.user_email} with {len(grant.scopes)} scopes")
        tune_process_memory()
        started = time.monotonic()
        results = run_sync(settings, streams, full_refresh=True, auth=build_auth(settings))
        elapsed = time.monotonic() - started
    records = sum(r.records for r in results)
    print(f"\nFull sync of {len(results)} streams into {args.database}:\n")
    print(summary_table(results, elapsed))
    print(f"{records} records in {elapsed:.1f} s ({records / max(elapsed, 1e-9):,.0f} records/s)")
    print(f"\nSample query:\n{SAMPLE_QUERY}\n")
    print_query(landing_reader(args.database), SAMPLE_QUERY)
    print(
        f"\nQuery it yourself: OUTREACH_DUCKDB_PATH={args.database} uv run outreach-pipeline "
        'sql "..." (without a query: an interactive shell)'
    )
    return 0 if all(r.ok for r in results) else 1
