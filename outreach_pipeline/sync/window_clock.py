"""Keeping an incremental cursor from running ahead of time.

A window ends at the API's clock (its ``Date``), or without one at the newest record value
seen; either comes from outside. A ``Date`` a year ahead, or one record with an ``updatedAt``
in the future, once taken as the cursor, makes every later window start in the future: those
runs read nothing and report success until a sweep. So the API's clock is trusted only
within ``SyncOptions.max_clock_skew`` of this host's (beyond it the window is left open, so
nothing the API holds is skipped now), a record's value moves the cursor no further than this
host's clock (a lower cursor only re-reads a little), and a stored cursor already beyond the
allowance (from a run before these checks) is moved back to the newest value landed that is
not in the future.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from outreach_pipeline.catalog import Stream
from outreach_pipeline.landing import Database, format_cursor, quote, table_name

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def window_end(stream: str, server_now: float | None, skew: timedelta) -> datetime | None:
    """Where a window starting now may end (before the margin): the API's time when it is
    within ``skew`` of this host's; None (an open window, the cursor then moving no further
    than this host's time) when the API sends no ``Date`` or one further ahead."""
    if server_now is None:
        return None
    server = datetime.fromtimestamp(server_now, UTC).replace(tzinfo=None)
    local = utc_now()
    if server > local + skew:
        log.warning(
            "%s: the API's clock (%s) is %s ahead of this host's; the window is left open "
            "and the cursor moves no further than this host's time",
            stream,
            format_cursor(server),
            server - local,
        )
        return None
    return server


def newest_allowed() -> str:
    """The furthest a record's value may move a cursor: this host's time."""
    return format_cursor(utc_now())


def in_the_future(cursor: str | None, skew: timedelta) -> bool:
    return cursor is not None and cursor > format_cursor(utc_now() + skew)


def repaired_cursor(database: Database, stream: Stream, column: str | None) -> str | None:
    """For a cursor found in the future: the newest value landed that is not (None, a full
    read, when nothing is landed)."""
    if column is None:
        return None
    with database.transaction() as con:
        row = con.execute(
            f"SELECT max({quote(column)}) FROM {table_name(stream)} WHERE {quote(column)} <= ?",
            [utc_now()],
        ).fetchone()
    newest = row[0] if row else None
    return format_cursor(newest) if isinstance(newest, datetime) else None
