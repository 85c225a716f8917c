"""A stream's listing URL for a window of its cursor, and the cursor arithmetic windows need."""

from __future__ import annotations

from datetime import datetime, timedelta

from outreach_pipeline.catalog import Stream
from outreach_pipeline.client import JsonApiClient
from outreach_pipeline.landing import format_cursor


def first_page_url(
    client: JsonApiClient,
    stream: Stream,
    since: str | None,
    until: str | None = None,
    page_size: int | None = None,
    count: bool = False,
) -> str:
    """The listing of records whose cursor lies in ``since..until`` (both inclusive, None:
    unbounded), at ``page_size`` (default: the catalog's); with ``count``, its first page
    says how many records it holds (``meta.count``: costlier for the API, so asked only
    where a window may be cut, see :mod:`.window_cuts`)."""
    size = min(page_size or stream.page_size, stream.page_size)
    params: dict[str, str | int] = {"page[size]": size, "count": "true" if count else "false"}
    if stream.cursor is not None:
        params["sort"] = stream.cursor
        if since is not None or until is not None:
            params[f"filter[{stream.cursor}]"] = f"{since or 'neginf'}..{until or 'inf'}"
    return client.url(stream.path, params)


def cursor_moment(cursor: str) -> datetime:
    """The moment a cursor value in Outreach's fixed-width form stands for."""
    return datetime.strptime(cursor, "%Y-%m-%dT%H:%M:%S.%fZ")


def shifted_cursor(cursor: str, delta: timedelta) -> str:
    return format_cursor(cursor_moment(cursor) + delta)
