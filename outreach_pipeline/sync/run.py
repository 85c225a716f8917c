"""``run_sync``: several streams at once (bounded), sharing one client, budget and database."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

import httpx

from outreach_pipeline.catalog import Stream, catalog, default_streams
from outreach_pipeline.client import (
    ApiUnusable,
    FetchError,
    Interrupted,
    JsonApiClient,
    RateBudget,
    shared_budget,
)
from outreach_pipeline.landing import Database, ensure_schema, sync_writer_lock
from outreach_pipeline.retry import RetryPolicy
from outreach_pipeline.settings import Settings
from outreach_pipeline.sync.authenticated import authenticated, record_unstarted
from outreach_pipeline.sync.options import SyncOptions
from outreach_pipeline.sync.page_chains import HelperSlots
from outreach_pipeline.sync.progress import SyncProgress, stream_of
from outreach_pipeline.sync.results import StreamResult
from outreach_pipeline.sync.stream_sync import sync_stream
from outreach_pipeline.sync.window_clock import utc_now


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
    stop: threading.Event | None = None,
    progress: SyncProgress | None = None,
) -> list[StreamResult]:
    """Sync ``streams`` (default: the catalog's ``default_streams``) into
    ``settings.grant_duckdb_path``; one result per stream, in the order given. A stream's failure
    is in its result; other streams go on. Auth errors (``AuthError``, e.g.
    ``ReauthorizationRequired``) propagate once the running streams have
    stopped; one before any stream started is recorded as each stream's failed run first.

    ``budget`` defaults to the process-wide budget of the grant's authorizing user (see
    :func:`budget_key`): syncs of two grants in one process (one after the other, or at once)
    spend their own users' budgets; pass one to share it differently.

    While another sync writes the same database (in any process), this one waits up to
    ``options.writer_lock_wait`` seconds, then raises ``SyncInProgress``; ``stop`` set
    meanwhile raises :class:`Interrupted` (nothing was run, nothing is recorded).

    Setting ``stop`` stops the run within seconds: no request starts after it, each stream's
    pages read so far land whole, and every stream's result (and ``sync_runs`` row) says it
    was interrupted. An exception reaching this thread while it waits for the streams (Ctrl-C
    as ``KeyboardInterrupt``, a Dagster run termination) sets it, then goes on up.

    An API URL that cannot be right (:class:`ApiUnusable`: connection refused, no such
    host, a 404 before any page) raises it once the running streams have stopped.

    ``progress`` is told of each stream's start, pages, retries and finish.

    The host process is left as it is: a long sync runs leaner after
    :func:`~outreach_pipeline.sync.memory.tune_process_memory`, which the process's owner
    calls (the ``sync`` command does; a Dagster run does when its config asks for it).
    """
    options = options or SyncOptions()
    stop = stop or threading.Event()
    progress = progress or SyncProgress()
    selected = list(streams) if streams is not None else default_streams()
    paths = [stream.path for stream in selected]
    if len(set(paths)) < len(paths):
        # Two loads of one stream at a time would share its stage table and cursor.
        raise ValueError(f"a stream is named twice in {paths}: sync each once")
    # Held until the database is closed: another sync of it waits (or gives up) meanwhile.
    with sync_writer_lock(settings.grant_duckdb_path, options.writer_lock_wait, stop):
        database = Database(
            settings.grant_duckdb_path,
            memory_limit=options.duckdb_memory_limit,
            publish_interval=settings.read_snapshot_interval,
        )
        with database.transaction() as con:
            ensure_schema(con, catalog().values())
        run_id = uuid.uuid4().hex[:12]
        # Parsing and converting hold the GIL: a second stream doing it at the same time
        # would mostly hold its parsed page while waiting. Fetching stays concurrent.
        decoding = threading.BoundedSemaphore(options.pages_decoded_at_once)
        chain_slots = HelperSlots(options.extra_chains)
        try:
            client = JsonApiClient(
                settings.api_url,
                authenticated(settings, auth, database, selected, run_id, full_refresh, stop),
                budget or shared_budget(budget_key(settings)),
                retry=retry,
                max_connections=max(4, (options.concurrency + options.extra_chains) * 2),
                limits=options.page_limits,
                stop=stop,
                on_retry=lambda url, problem, wait: progress.retrying(
                    stream_of(client.base.relative(url)), problem, wait
                ),
            )
            probed = _check_api(client, database, selected, run_id, full_refresh)
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
                        chain_slots=chain_slots,
                        progress=progress,
                        requests_before=probed if number == 0 else 0,
                    )
                    for number, stream in enumerate(selected)
                ]
                try:
                    wait(futures, return_when=FIRST_EXCEPTION)
                except BaseException:
                    stop.set()
                    raise
                failure = _first_failure(futures)
                if failure is not None:
                    for future in futures:
                        future.cancel()
            if failure is not None:
                raise failure
            return [future.result() for future in futures]
        finally:
            database.close()


def budget_key(settings: Settings) -> str:
    """Whose request budget a sync of ``settings``' grant spends. Outreach counts requests per
    user, and a grant is one user's authorization, so each grant has its own: a grant whose
    user has spent the budget holds up no other. Two grants of one user (rare) each follow
    the remaining count the API reports for that user, as syncs in two processes do."""
    return f"{settings.api_url} grant {settings.grant}"


def _first_failure(futures: Sequence[Future[StreamResult]]) -> BaseException | None:
    """The exception of the first stream (in the order given) that raised one, if any."""
    for future in futures:
        if future.done() and not future.cancelled() and future.exception() is not None:
            return future.exception()
    return None


def _check_api(
    client: JsonApiClient,
    database: Database,
    streams: Sequence[Stream],
    run_id: str,
    full_refresh: bool,
) -> int:
    """Read the API's clock once for all streams (they would each ask it first): an API URL
    that cannot be right (:class:`ApiUnusable`) is then reported once, in seconds, with a
    failed row per stream, instead of by every stream after its retries. Other failures are
    left for the streams to meet and report. The requests it took (asking for the first
    stream's first record), counted as that stream's."""
    if not streams:
        return 0
    started_at = utc_now()
    try:
        return client.server_now(streams[0].path)[1]
    except ApiUnusable as error:
        record_unstarted(database, streams, run_id, full_refresh, started_at, error.problem)
        raise
    except (FetchError, Interrupted):
        return 0
