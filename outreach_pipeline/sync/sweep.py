"""The delete sweep: list every id of a stream (``fields[<type>]=id``, cheap) and mark rows
the API no longer has with ``_deleted_at``; rows listed again lose the mark.

Outreach offers no list of deleted records, so this is the only way to notice deletes
without webhooks. It costs as many requests as a full listing, hence it runs periodically
(``SyncOptions.sweep_interval``) or on demand (``--sweep-deletes``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pyarrow as pa

from outreach_pipeline.catalog import Stream
from outreach_pipeline.client import FetchError, JsonApiClient
from outreach_pipeline.landing import (
    BadRecord,
    Database,
    StreamState,
    load_state,
    mark_deleted,
    record_id,
    save_state,
)
from outreach_pipeline.sync.errors import StreamFailed
from outreach_pipeline.sync.options import SyncOptions
from outreach_pipeline.sync.results import StreamResult


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
    """List the stream's ids and mark the landing table's rows accordingly."""
    ids: list[int] = []
    url: str | None = client.url(
        stream.path,
        {
            "page[size]": options.sweep_page_size,
            "count": "false",
            f"fields[{stream.jsonapi_type}]": "id",
        },
    )
    while url is not None:
        try:
            page = client.fetch_page(url, shrink_on_bad_gateway=True)
            ids.extend(record_id(r.get("id")) for r in page.document.resources)
        except FetchError as error:
            raise StreamFailed(
                f"stream {stream.path}: delete sweep page {error.url}: {error.problem}"
            ) from None
        except BadRecord as error:
            raise StreamFailed(f"stream {stream.path}: delete sweep page {url}: {error}") from None
        result.requests += page.requests
        result.pages += 1
        url = page.document.next_url
    live = pa.table({"id": pa.array(ids, pa.int64())})
    with database.transaction() as con:
        counts = mark_deleted(con, stream, live, history=stream.path in options.history_streams)
        state = load_state(con, stream.path)
        save_state(con, stream.path, replace(state, last_swept_at=started_at))
    result.records_deleted += counts.deleted
