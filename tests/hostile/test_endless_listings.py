"""Issue 15, item 8: a listing that would never end stops the stream with one line.

The same next link again, a link back to page 1 (in another spelling), fresh links to empty
pages, or far more pages than ``meta.count`` allows: each stops within a few pages (not after
hundreds, not never), keeping the rows of the pages read, and saving no link to resume from.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from outreach_pipeline.landing import load_state
from outreach_pipeline.landing.database import Database
from tests.hostile.server import HostileServer, Reply, Seen, page
from tests.hostile.sync_support import (
    USERS,
    landed_ids,
    run_rows,
    settings_for,
    store_grant,
    sync_users,
    user,
)


def _listing(next_of: Callable[[Seen, int], str | None]) -> Callable[[Seen], Reply]:
    """Page N (``page[after]=N``, none for page 0) holds user N+1 and links to ``next_of``."""

    def answer(seen: Seen) -> Reply:
        if seen.query.get("page[size]") == "1" and "page[after]" not in seen.query:
            return Reply(body=page([user(1)]))  # the clock probe
        number = int(seen.query.get("page[after]", "0"))
        return Reply(body=page([user(number + 1)], next_of(seen, number)))

    return answer


def _run(tmp_path: Path, answer: Callable[[Seen], Reply]):
    with HostileServer(answer) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        started = time.monotonic()
        result = sync_users(settings)
        return api, settings, result, time.monotonic() - started


def _stopped(settings, result, elapsed: float, words: str) -> None:
    assert result.error is not None and "\n" not in result.error
    assert words in result.error, result.error
    assert elapsed < 30
    assert run_rows(settings)[-1][1] == result.error
    database = Database(settings.duckdb_path)
    try:
        with database.transaction() as con:
            assert load_state(con, USERS.path).resume_url is None
    finally:
        database.close()


def test_the_same_next_link_again_stops_the_stream(tmp_path: Path) -> None:
    api, settings, result, elapsed = _run(
        tmp_path, _listing(lambda seen, n: f"?page[after]={min(n + 1, 2)}")
    )
    _stopped(settings, result, elapsed, "repeats a page already read")
    assert landed_ids(settings) == [1, 2, 3]
    assert len(api.requests_to("/api/v2/users")) <= 5


def test_a_link_back_to_page_one_in_another_spelling_stops_the_stream(tmp_path: Path) -> None:
    holder: list[str] = []

    def next_of(seen: Seen, number: int) -> str | None:
        if number == 0:
            holder.append(seen.target)
        if number < 3:
            return f"?page[after]={number + 1}"
        # Page 1 again: its parameters reversed, brackets percent-encoded.
        path, query = holder[0].split("?", 1)
        reordered = "&".join(reversed(query.split("&"))).replace("[", "%5B").replace("]", "%5D")
        return f"{path}?{reordered}"

    _, settings, result, elapsed = _run(tmp_path, _listing(next_of))
    _stopped(settings, result, elapsed, "repeats a page already read")
    assert landed_ids(settings) == [1, 2, 3, 4]


def test_fresh_links_to_empty_pages_stop_the_stream(tmp_path: Path) -> None:
    def answer(seen: Seen) -> Reply:
        number = int(seen.query.get("page[after]", "0"))
        resources = [user(1), user(2)] if number == 0 else []
        return Reply(body=page(resources, f"?page[after]={number + 1}"))

    api, settings, result, elapsed = _run(tmp_path, answer)
    _stopped(settings, result, elapsed, "without records still link on")
    assert landed_ids(settings) == [1, 2]
    assert len(api.requests_to("/api/v2/users")) < 10


@pytest.mark.parametrize("count", [0, 5])
def test_far_more_pages_than_meta_count_allows_stop_the_stream(tmp_path: Path, count) -> None:
    def answer(seen: Seen) -> Reply:
        number = int(seen.query.get("page[after]", "0"))
        body = page([user(number + 1)], f"?page[after]={number + 1}")
        return Reply(body=body.replace(b'"count":1', f'"count":{count}'.encode()))

    api, settings, result, elapsed = _run(tmp_path, answer)
    _stopped(settings, result, elapsed, f"meta.count {count} allows")
    assert len(landed_ids(settings)) > 100
    assert len(api.requests_to("/api/v2/users")) < 120


def test_a_sweep_listing_that_repeats_stops_the_stream(tmp_path: Path) -> None:
    def answer(seen: Seen) -> Reply:
        if any(name.startswith("fields[") for name in seen.query):
            return Reply(body=page([user(1)], "?fields[user]=id&page[after]=1"))
        return Reply(body=page([user(1), user(2)]))

    with HostileServer(answer) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        started = time.monotonic()
        result = sync_users(settings, sweep_deletes=True)
        assert time.monotonic() - started < 30
    assert result.error is not None and "sweep listing stopped" in result.error
    assert "repeats a page already read" in result.error
    assert landed_ids(settings) == [1, 2]
    assert run_rows(settings)[-1][1] == result.error
