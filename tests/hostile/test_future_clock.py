"""Issue 15, item 7: a clock from outside cannot freeze incremental sync.

One answer with a ``Date`` a year ahead, or one record with an ``updatedAt`` a year ahead
and no ``Date``, must not move the cursor past this host's time: the next run still reads
the changes made since. A cursor already in the future (stored before this check) is moved
back with a warning, and a window that would end before it starts is refused, not asked.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from outreach_pipeline.landing import StreamState, format_cursor
from outreach_pipeline.sync.window_clock import utc_now
from tests.hostile.server import HostileServer, Reply, Seen, page
from tests.hostile.sync_support import landed_ids, settings_for, store_grant, sync_users, user

YEAR = timedelta(days=365)


class Listing:
    """Users served by ``updatedAt``, honouring ``filter[updatedAt]=since..until``, with a
    chosen ``Date`` (None: the server's own; "": none at all)."""

    def __init__(self) -> None:
        self.updated = {1: "2025-01-01T00:00:00.000Z"}
        self.date: str | None = None
        self.windows: list[str] = []

    def answer(self, seen: Seen) -> Reply:
        window = seen.query.get("filter[updatedAt]")
        if window is not None:
            self.windows.append(window)
        low, high = (window or "neginf..inf").split("..")
        rows = [
            user(record_id, at)
            for record_id, at in sorted(self.updated.items())
            if (low == "neginf" or at >= low) and (high == "inf" or at <= high)
        ]
        return Reply(body=page(rows), headers={} if self.date is None else {"Date": self.date})

    def change(self, record_id: int) -> None:
        """``record_id`` changed a few seconds ago (the window ends a second before the
        API's ``Date``, which has whole seconds)."""
        self.updated[record_id] = format_cursor(utc_now() - timedelta(seconds=5))


def _utc_date(moment: datetime) -> str:
    """An HTTP date for a naive UTC moment."""
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _not_past_now(cursor: str | None) -> bool:
    return cursor is not None and cursor <= format_cursor(utc_now())


def test_a_date_a_year_ahead_does_not_freeze_the_cursor(tmp_path: Path) -> None:
    listing = Listing()
    with HostileServer(listing.answer) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        listing.date = _utc_date(utc_now() + YEAR)
        first = sync_users(settings)
        assert first.ok and _not_past_now(first.cursor_after), first.cursor_after
        listing.date = None
        listing.change(2)
        second = sync_users(settings)
        assert second.ok, second.error
        assert landed_ids(settings) == [1, 2]


def test_a_future_updated_at_without_a_date_does_not_freeze_the_cursor(tmp_path: Path) -> None:
    listing = Listing()
    listing.date = ""
    listing.updated[1] = format_cursor(utc_now() + YEAR)
    with HostileServer(listing.answer) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        first = sync_users(settings)
        assert first.ok and _not_past_now(first.cursor_after), first.cursor_after
        listing.change(2)
        assert sync_users(settings).ok
        assert landed_ids(settings) == [1, 2]


def test_a_stored_cursor_in_the_future_is_moved_back_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    listing = Listing()
    with HostileServer(listing.answer) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        assert sync_users(settings).ok
        listing.change(2)
        frozen = StreamState(cursor=format_cursor(utc_now() + YEAR))
        with caplog.at_level(logging.WARNING):
            result = sync_users(settings, state=frozen)
        assert result.ok, result.error
        assert "in the future" in caplog.text
        assert landed_ids(settings) == [1, 2]
        assert _not_past_now(result.cursor_after), result.cursor_after
        low, high = listing.windows[-1].split("..")
        assert low <= "2025-01-01T00:00:00.000Z" and low <= high


def test_an_inverted_window_is_refused_not_asked(tmp_path: Path) -> None:
    listing = Listing()
    listing.date = _utc_date(utc_now() - YEAR)
    with HostileServer(listing.answer) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        result = sync_users(
            settings, state=StreamState(cursor=format_cursor(utc_now() - timedelta(hours=1)))
        )
        assert result.error is not None and "inverted" in result.error
        assert "\n" not in result.error
        assert listing.windows == []
