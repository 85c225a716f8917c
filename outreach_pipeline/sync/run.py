"""``run_sync``: several streams at once (bounded), sharing one client, budget and database."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

import httpx

from outreach_pipeline.catalog import Stream, catalog
from outreach_pipeline.client import JsonApiClient, RateBudget, RetryPolicy, shared_budget
from outreach_pipeline.landing import Database, ensure_schema, sync_writer_lock
from outreach_pipeline.settings import Settings
from outreach_pipeline.sync.authenticated import authenticated
from outreach_pipeline.sync.memory import tune_process_memory
from outreach_pipeline.sync.options import SyncOptions
from outreach_pipeline.sync.results import StreamResult
from outreach_pipeline.sync.stream_sync import sync_stream


def run_sync(
    settings: Settings,
    streams: Sequence[Stream] | None = None,
    *,
    full_refresh: bool = False,
    sweep_deletes: bool = False,
    auth: httpx.Auth | None = None,
    options: SyncOptions | None = None,
    budget: RateBudget | None = None,
    retry: RetryPolicy | None = None,
) -> list[StreamResult]:
    """Sync ``streams`` (default: all) into ``settings.duckdb_path``; one result per stream,
    in the order given. A stream's failure is in its result; other streams go on. Auth errors
    (``AuthError``, e.g. ``ReauthorizationRequired``) propagate once the running streams have
    stopped; one before any stream started is recorded as each stream's failed run first.

    ``budget`` defaults to the process-wide budget of ``settings.api_url`` (one authorizing
    user per process); pass one to share it differently.

    While another sync writes the same database (in any process), this one waits up to
    ``options.writer_lock_wait`` seconds, then raises ``SyncInProgress``.
    """
    options = options or SyncOptions()
    tune_process_memory()
    selected = list(streams) if streams is not None else list(catalog().values())
    paths = [stream.path for stream in selected]
    if len(set(paths)) < len(paths):
        # Two loads of one stream at a time would share its stage table and cursor.
        raise ValueError(f"a stream is named twice in {paths}: sync each once")
    # Held until the database is closed: another sync of it waits (or gives up) meanwhile.
    with sync_writer_lock(settings.duckdb_path, options.writer_lock_wait):
        database = Database(
            settings.duckdb_path,
            memory_limit=options.duckdb_memory_limit,
            publish_interval=settings.read_snapshot_interval,
        )
        with database.transaction() as con:
            ensure_schema(con, catalog().values())
        run_id = uuid.uuid4().hex[:12]
        # Parsing and converting hold the GIL: a second stream doing it at the same time
        # would mostly hold its parsed page while waiting. Fetching stays concurrent.
        decoding = threading.BoundedSemaphore(options.pages_decoded_at_once)
        try:
            client = JsonApiClient(
                settings.api_url,
                authenticated(settings, auth, database, selected, run_id, full_refresh),
                budget or shared_budget(settings.api_url),
                retry=retry,
                max_connections=max(4, options.concurrency * 2),
                limits=options.page_limits,
            )
            # Leaving the pool waits for the streams still running, so the database is closed
            # only once nothing can write to it any more.
            with client, ThreadPoolExecutor(max_workers=options.concurrency) as pool:
                futures = [
                    pool.submit(
                        sync_stream,
                        stream,
                        client,
                        database,
                        full_refresh=full_refresh,
                        sweep_deletes=sweep_deletes,
                        options=options,
                        run_id=run_id,
                        decoding=decoding,
                    )
                    for stream in selected
                ]
                done, _ = wait(futures, return_when=FIRST_EXCEPTION)
                if any(f.exception() is not None for f in done):
                    for future in futures:
                        future.cancel()
            return [future.result() for future in futures]
        finally:
            database.close()
