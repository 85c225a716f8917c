"""The sweep's listing of a whole stream: every id, with its fingerprint when the stream has
one (``fields[<type>]=updatedAt,account,owner,...``), else ids alone (``fields[<type>]=id``).

Naming relationships in a sparse fieldset is JSON:API; that Outreach honours it for every
stream is a guess, so an API answering 4xx to the fingerprint listing gets the id listing
instead (the delete sweep then still works) and the refusal is logged.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pyarrow as pa

from outreach_pipeline.catalog import Stream
from outreach_pipeline.client import JsonApiClient
from outreach_pipeline.landing import Fingerprint, RecordConverter, fingerprint_of, record_id
from outreach_pipeline.sync.options import SyncOptions
from outreach_pipeline.sync.page_walk import PageWalk
from outreach_pipeline.sync.results import StreamResult
from outreach_pipeline.sync.sweep_pages import SweepPageFailed, fetch_rows

log = logging.getLogger(__name__)

# Listing rows are compared, never landed: their ``_synced_at`` is not looked at.
_NOT_LANDED = datetime(1970, 1, 1)


def list_stream(
    stream: Stream,
    client: JsonApiClient,
    options: SyncOptions,
    result: StreamResult,
) -> tuple[pa.Table, Fingerprint | None]:
    """Every listed record's row (``id`` and the fingerprint's columns), and the
    fingerprint those rows carry (None: ids only)."""
    fingerprint = fingerprint_of(stream) if options.fingerprint_sweep else None
    if fingerprint is not None:
        try:
            return _list(stream, client, options, result, fingerprint), fingerprint
        except SweepPageFailed as failure:
            if failure.status is None or not 400 <= failure.status < 500:
                raise
            log.warning("%s; sweeping %s by ids only", failure, stream.path)
    return _list(stream, client, options, result, None), None


def _list(
    stream: Stream,
    client: JsonApiClient,
    options: SyncOptions,
    result: StreamResult,
    fingerprint: Fingerprint | None,
) -> pa.Table:
    fields = ",".join(fingerprint.fields) if fingerprint is not None else "id"
    url: str | None = client.url(
        stream.path,
        {
            "page[size]": options.sweep_page_size,
            "count": "false",
            f"fields[{stream.jsonapi_type}]": fields,
        },
    )
    converter = RecordConverter(stream)

    def rows(resources: list[dict[str, Any]]) -> pa.Table:
        if fingerprint is None:
            ids = [record_id(r.get("id")) for r in resources]
            return pa.table({"id": pa.array(ids, pa.int64())})
        return converter.convert(resources, _NOT_LANDED).select(fingerprint.batch_columns)

    pages = []
    walk = PageWalk()
    while url is not None:
        page, url = fetch_rows(client, stream, url, "sweep listing", rows, result, walk)
        pages.append(page)
    return pa.concat_tables(pages)
