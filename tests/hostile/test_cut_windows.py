"""Issue 19: a long window read as several chains (sync/page_chains.py) against APIs that lie
about what a cut relies on: ``meta.count`` saying the window never shrinks, and filters that
are ignored. Every record lands once, the number of chains stays bounded, and the requests
stay within a bound, whatever the API says."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from outreach_pipeline.sync.options import SyncOptions
from tests.hostile.server import HostileServer, Reply, Seen
from tests.hostile.sync_support import landed_ids, run_rows, settings_for, store_grant, sync_users
from tests.hostile.sync_support import user as user_resource

RECORDS = 20
START = datetime(2025, 1, 1, tzinfo=UTC)
OPTIONS = SyncOptions(chain_min_pages=1)
MOST_CHAINS = 2 * OPTIONS.chains_per_stream


def _stamp(number: int) -> str:
    return (START + timedelta(hours=number)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _listing(honour_filter: bool) -> Callable[[Seen], Reply]:
    """Users 1..RECORDS an hour apart, one a page, sorted by ``updatedAt``; every counted page
    says 1,999,999 records are left. ``honour_filter`` False: ``filter[updatedAt]`` is ignored,
    so every window is the whole listing."""
    users = [user_resource(n, updated_at=_stamp(n)) for n in range(1, RECORDS + 1)]

    def answer(seen: Seen) -> Reply:
        query = seen.query
        window = users
        if honour_filter and "filter[updatedAt]" in query:
            low, high = query["filter[updatedAt]"].split("..")
            window = [
                u
                for u in users
                if (low == "neginf" or u["attributes"]["updatedAt"] >= low)
                and (high == "inf" or u["attributes"]["updatedAt"] <= high)
            ]
        at = int(query.get("page[after]", "0"))
        document: dict = {"data": window[at : at + 1], "meta": {}}
        if query.get("count") == "true":
            document["meta"]["count"] = 1_999_999
        if at + 1 < len(window):
            params = {k: v for k, v in query.items() if k != "page[after]"}
            params["page[after]"] = str(at + 1)
            link = "&".join(f"{k}={v}" for k, v in params.items())
            document["links"] = {"next": f"http://{seen.host}{seen.path}?{link}"}
        return Reply(body=orjson.dumps(document))

    return answer


def _sync(tmp_path: Path, honour_filter: bool):
    with HostileServer(_listing(honour_filter)) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        result = sync_users(settings, options=OPTIONS)
        listings = api.requests_to("/api/v2/users")
    return settings, result, listings


def test_a_count_that_never_shrinks_cuts_no_more_than_allowed(tmp_path: Path):
    settings, result, listings = _sync(tmp_path, honour_filter=True)
    assert result.ok, result.error
    assert result.chains == MOST_CHAINS
    assert landed_ids(settings) == list(range(1, RECORDS + 1))
    # One page per record and the clock probe; each cut costs at most two more: the lower
    # half reads again from the newest time seen, and the upper half may turn out empty
    # (here all records lie in the window's first day, and every cut halves its time).
    assert len(listings) <= RECORDS + 2 * (MOST_CHAINS - 1) + 1
    # Only the first page of each window asks for the count.
    assert sum(seen.query.get("count") == "true" for seen in listings) == 2 * MOST_CHAINS - 1
    assert run_rows(settings) == [("users", None)]


def test_an_api_ignoring_the_window_lands_each_record_once_in_bounded_requests(tmp_path: Path):
    settings, result, listings = _sync(tmp_path, honour_filter=False)
    assert result.ok, result.error
    assert result.chains <= MOST_CHAINS
    assert landed_ids(settings) == list(range(1, RECORDS + 1))
    # Each chain may read the whole listing (and its lower half again from its first
    # record): more requests, bounded, never an endless walk.
    assert len(listings) <= MOST_CHAINS * (RECORDS + 1) + 1
