"""Fetching given records again in full, ``filter[id]=1,2,3`` a chunk at a time, and landing
each page through the normal upsert (history included, silent changes too: see
:mod:`~outreach_pipeline.landing.observed_versions`).

A chunk holds at most the stream's page size (``mailings`` pages stay small) and as many ids
as fit in :data:`ID_LIST_CHARS`, so URLs stay far below the 8 KB many gateways accept. That
Outreach takes a list in ``filter[id]`` is a guess (the emulator does); ``links.next`` is
followed should a page come back short.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from outreach_pipeline.catalog import Stream
from outreach_pipeline.client import JsonApiClient
from outreach_pipeline.landing import Database, RecordConverter, add_observed_versions, upsert
from outreach_pipeline.sync.page_walk import PageWalk
from outreach_pipeline.sync.results import StreamResult
from outreach_pipeline.sync.sweep_pages import fetch_rows

ID_LIST_CHARS = 2000


def id_chunks(ids: Sequence[int], most: int, chars: int = ID_LIST_CHARS) -> Iterator[list[int]]:
    """``ids`` in order, cut into lists of at most ``most`` ids and ``chars`` characters
    once joined by commas."""
    chunk: list[int] = []
    length = 0
    for record_id in ids:
        width = len(str(record_id)) + (1 if chunk else 0)
        if chunk and (len(chunk) == most or length + width > chars):
            yield chunk
            chunk, length, width = [], 0, width - 1
        chunk.append(record_id)
        length += width
    if chunk:
        yield chunk


def refetch(
    stream: Stream,
    client: JsonApiClient,
    database: Database,
    ids: Sequence[int],
    result: StreamResult,
    *,
    history: bool,
    observed_at: datetime,
) -> None:
    """Fetch ``ids`` of ``stream`` and land them; counts go to ``result``."""
    converter = RecordConverter(stream)
    for chunk in id_chunks(ids, stream.page_size):
        url: str | None = client.url(
            stream.path,
            {"filter[id]": ",".join(map(str, chunk)), "page[size]": len(chunk), "count": "false"},
        )
        walk = PageWalk()
        while url is not None:
            table, url = fetch_rows(
                client,
                stream,
                url,
                "sweep re-fetch",
                lambda resources: converter.convert(resources, observed_at),
                result,
                walk,
            )
            if history and table.num_rows:
                with database.transaction() as con:
                    add_observed_versions(con, stream, table, observed_at)
            with database.transaction() as con:
                counts = upsert(con, stream, table, history=history)
            result.records_refetched += table.num_rows
            result.records_inserted += counts.inserted
            result.records_updated += counts.updated
