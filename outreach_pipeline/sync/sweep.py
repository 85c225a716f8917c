"""The sweep: list a whole stream cheaply, fetch again the records that changed unseen, and
mark rows the API no longer has with ``_deleted_at`` (rows listed again lose the mark).

Outreach offers no list of deleted records, and changes some relationships (and data
connections) without moving ``updatedAt``: an incremental sync sees neither. The sweep lists
every record with a fingerprint of such values (:mod:`~outreach_pipeline.landing.fingerprints`;
ids only for streams without one), fetches in full those whose fingerprint differs from the
landed row, lands them like any update, then marks deletes. It costs a full listing plus one
request per chunk of changed records, hence it runs periodically
(``SyncOptions.sweep_interval``) or on demand (``--sweep-deletes``). The sweep time is saved
only once all of it is in, so a failed sweep is done again by the next run.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from outreach_pipeline.catalog import Stream
from outreach_pipeline.client import JsonApiClient
from outreach_pipeline.landing import (
    Database,
    StreamState,
    load_state,
    mark_deleted,
    save_state,
    stale_ids,
)
from outreach_pipeline.sync.options import SyncOptions
from outreach_pipeline.sync.refetch import refetch
from outreach_pipeline.sync.results import StreamResult
from outreach_pipeline.sync.sweep_listing import list_stream


def sweep_due(state: StreamState, asked: bool, options: SyncOptions, now: datetime) -> bool:
    if asked:
        return True
    if options.sweep_interval is None or state.last_swept_at is None:
        return False
    return now - state.last_swept_at >= options.sweep_interval


def sweep(
    stream: Stream,
    client: JsonApiClient,
    database: Database,
    options: SyncOptions,
    result: StreamResult,
    started_at: datetime,
) -> None:
    """List the stream, bring changed records up to date and mark deleted ones."""
    history = stream.path in options.history_streams
    listed, fingerprint = list_stream(stream, client, options, result)
    if fingerprint is not None:
        with database.transaction() as con:
            stale = stale_ids(con, stream, fingerprint, listed)
        # Seen by the end of the listing: when a silent change's history version starts.
        seen_at = datetime.now(UTC).replace(tzinfo=None)
        refetch(stream, client, database, stale, result, history=history, observed_at=seen_at)
    with database.transaction() as con:
        counts = mark_deleted(con, stream, listed.select(["id"]), history=history)
        state = load_state(con, stream.path)
        save_state(con, stream.path, replace(state, last_swept_at=started_at))
    result.records_deleted += counts.deleted
