"""One page of a sweep request, read into rows, its cost counted, its failure named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from outreach_pipeline.catalog import Stream
from outreach_pipeline.client import FetchError, JsonApiClient
from outreach_pipeline.landing import BadRecord
from outreach_pipeline.sync.errors import StreamFailed
from outreach_pipeline.sync.page_walk import PageWalk
from outreach_pipeline.sync.results import StreamResult


class SweepPageFailed(StreamFailed):
    """A sweep page could not be had; ``status`` is the HTTP status when the API refused."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status


def fetch_rows(
    client: JsonApiClient,
    stream: Stream,
    url: str,
    what: str,
    convert: Callable[[list[dict[str, Any]]], pa.Table],
    result: StreamResult,
    walk: PageWalk,
) -> tuple[pa.Table, str | None]:
    """The page at ``url`` converted to rows, and the next page's URL (None: the last);
    ``walk`` is the listing's, stopping one that would not end."""
    refused = walk.asking(url)
    if refused is not None:
        raise SweepPageFailed(f"stream {stream.path}: {what} stopped: {refused}", None)
    try:
        page = client.fetch_page(url, shrink_on_bad_gateway=True)
        rows = convert(page.content.resources)
    except FetchError as error:
        raise SweepPageFailed(
            f"stream {stream.path}: {what} page {error.url}: {error.problem}", error.status
        ) from None
    except BadRecord as error:
        raise SweepPageFailed(f"stream {stream.path}: {what} page {url}: {error}", None) from None
    result.requests += page.requests
    result.pages += 1
    refused = walk.read(page)
    if refused is not None:
        raise SweepPageFailed(f"stream {stream.path}: {what} stopped: {refused}", None)
    return rows, page.next_url
