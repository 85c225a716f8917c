"""Syncing one stream: fetch pages from the cursor on, land them batch by batch.

Each batch commits its rows and the stream's state in one transaction, so a crash at any
moment loses nothing: the rerun continues from the next page recorded with the last batch.
Incremental streams (``updatedAt``, and ``createdAt`` for append-only events) are upserted
by id and the cursor moves to the largest value seen once every page is in. Streams without
a cursor are staged and swapped in whole at the end.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime

import pyarrow as pa

from outreach_pipeline.catalog import Stream
from outreach_pipeline.client import FetchError, JsonApiClient
from outreach_pipeline.landing import (
    BadRecord,
    Database,
    RecordConverter,
    StreamState,
    WriteCounts,
    load_state,
    record_run,
    replace_from_stage,
    reset_stage,
    save_state,
    stage,
    upsert,
)
from outreach_pipeline.sync.batches import BatchBuffer
from outreach_pipeline.sync.errors import StreamFailed
from outreach_pipeline.sync.options import SyncOptions
from outreach_pipeline.sync.results import StreamResult
from outreach_pipeline.sync.sweep import sweep, sweep_due

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def first_page_url(client: JsonApiClient, stream: Stream, cursor: str | None) -> str:
    params: dict[str, str | int] = {"page[size]": stream.page_size, "count": "false"}
    if stream.cursor is not None:
        params["sort"] = stream.cursor
        if cursor is not None:
            params[f"filter[{stream.cursor}]"] = f"{cursor}..inf"
    return client.url(stream.path, params)


def _later(a: str | None, b: str | None) -> str | None:
    """The later of two cursors in Outreach's fixed-width form (None counts as earliest)."""
    if a is None or b is None:
        return a or b
    return max(a, b)


def sync_stream(
    stream: Stream,
    client: JsonApiClient,
    database: Database,
    *,
    full_refresh: bool = False,
    sweep_deletes: bool = False,
    options: SyncOptions | None = None,
    run_id: str = "",
) -> StreamResult:
    """Bring ``stream``'s table up to date with the API; errors end up in ``result.error``.

    ``sweep_deletes`` lists every id afterwards and marks missing rows ``_deleted_at``; it
    also happens when ``options.sweep_interval`` has passed since the last sweep.
    """
    options = options or SyncOptions()
    started_at, started = utc_now(), time.perf_counter()
    result = StreamResult(stream=stream.path)
    state = StreamState()
    swept = False
    try:
        with database.transaction() as con:
            state = load_state(con, stream.path)
            if not stream.incremental:
                reset_stage(con, stream)
        result.cursor_before = result.cursor_after = state.cursor
        state = _fetch_and_land(
            stream, client, database, state, full_refresh, options, result, started_at
        )
        if stream.incremental and sweep_due(state, sweep_deletes, options, started_at):
            swept = True
            sweep(stream, client, database, options, result, started_at)
    except StreamFailed as failure:
        result.error = str(failure)
        log.error("%s", failure)
    result.duration_s = time.perf_counter() - started
    with database.transaction() as con:
        record_run(
            con,
            {
                **asdict(result),
                "run_id": run_id,
                "started_at": started_at,
                "finished_at": utc_now(),
                "full_refresh": full_refresh,
                "swept_deletes": swept,
            },
        )
    return result


def _fetch_and_land(
    stream: Stream,
    client: JsonApiClient,
    database: Database,
    state: StreamState,
    full_refresh: bool,
    options: SyncOptions,
    result: StreamResult,
    started_at: datetime,
) -> StreamState:
    converter = RecordConverter(stream)
    cursor_column = next(
        (
            c.name
            for c in converter.columns
            if c.api_name == stream.cursor and c.source == "attribute"
        ),
        None,
    )
    buffer = BatchBuffer(options.batch_rows, options.batch_bytes, cursor_column)
    resuming = (
        stream.incremental
        and not full_refresh
        and state.resume_url is not None
        and state.resume_url.startswith(client.api_url + "/")
    )
    start_cursor = None if full_refresh or not stream.incremental else state.cursor
    url: str | None = state.resume_url if resuming else first_page_url(client, stream, start_cursor)
    newest_in_run = state.resume_cursor if resuming else None
    synced_at = utc_now()
    # A load from no cursor sees every record there is: deletes are counted from its start.
    baseline = started_at if start_cursor is None else None
    while url is not None:
        try:
            page = client.fetch_page(url, shrink_on_bad_gateway=True)
        except FetchError as error:
            if resuming and error.status is not None and 400 <= error.status < 500:
                log.warning("%s: saved resume link refused (%s); restarting", stream.path, error)
                resuming = False
                url = first_page_url(client, stream, start_cursor)
                newest_in_run = None
                continue
            failure = f"stream {stream.path}: page {error.url}: {error.problem}"
        else:
            resuming = False
            result.requests += page.requests
            result.pages += 1
            if page.rate_limit_remaining is not None:
                result.rate_limit_remaining = page.rate_limit_remaining
            try:
                buffer.add(converter.convert(page.document.resources, synced_at))
            except BadRecord as error:
                failure = f"stream {stream.path}: page {page.url}: {error}"
            else:
                url = page.document.next_url
                if buffer.full or url is None:
                    newest_in_run = _later(newest_in_run, buffer.take_newest())
                    state = _commit(
                        stream, database, buffer, state, url, newest_in_run, result, baseline
                    )
                continue
        # Keep what was read before the failing page; a rerun resumes at that page.
        if stream.incremental:
            newest_in_run = _later(newest_in_run, buffer.take_newest())
            _commit(stream, database, buffer, state, url, newest_in_run, result, baseline)
        raise StreamFailed(failure)
    return state


def _commit(
    stream: Stream,
    database: Database,
    buffer: BatchBuffer,
    state: StreamState,
    next_url: str | None,
    newest_in_run: str | None,
    result: StreamResult,
    sweep_baseline: datetime | None,
) -> StreamState:
    """Land the buffered batch with the state that goes with it, in one transaction."""
    batch = buffer.take()
    finished = next_url is None
    if finished:
        cursor = _later(state.cursor, newest_in_run) if stream.incremental else None
        new_state = replace(
            state,
            cursor=cursor,
            resume_url=None,
            resume_cursor=None,
            last_swept_at=state.last_swept_at or sweep_baseline,
        )
    else:
        new_state = replace(state, resume_url=next_url, resume_cursor=newest_in_run)
    with database.transaction() as con:
        counts = WriteCounts()
        if stream.incremental:
            if batch is not None:
                counts = upsert(con, stream, batch)
        else:
            if batch is not None:
                stage(con, stream, batch)
            if finished:
                counts = replace_from_stage(con, stream)
        save_state(con, stream.path, new_state)
    result.records_inserted += counts.inserted
    result.records_updated += counts.updated
    result.records_deleted += counts.deleted
    result.cursor_after = new_state.cursor
    # Arrow's allocator keeps freed memory for reuse; hand it back so memory stays flat.
    pa.default_memory_pool().release_unused()
    return new_state
