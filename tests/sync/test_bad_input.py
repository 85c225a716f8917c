"""Bad answers: stored faithfully (typed column or ``_extra``) or the stream stops with an
error naming the stream, the page URL and the problem, keeping what came before."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import orjson
import pytest

from outreach_pipeline.catalog import stream
from outreach_pipeline.client import JsonApiClient, RateBudget
from outreach_pipeline.landing import Database, StreamState, ensure_schema, save_state
from outreach_pipeline.sync import StreamResult, sync_stream
from tests.sync.conftest import QUICK_RETRY

API = "https://api.test/api/v2"
USERS = stream("users")


def _user(record_id, **attributes):
    return {
        "type": "user",
        "id": record_id,
        "attributes": {"updatedAt": "2025-01-01T00:00:00.000Z", **attributes},
    }


def _page(resources, next_url=None) -> bytes:
    document: dict = {"data": resources}
    if next_url:
        document["links"] = {"next": next_url}
    return orjson.dumps(document)


def _serve(answer: Callable[[httpx.Request], httpx.Response]) -> JsonApiClient:
    return JsonApiClient(
        API, httpx.Auth(), RateBudget(), retry=QUICK_RETRY, transport=httpx.MockTransport(answer)
    )


def _sync_users(client: JsonApiClient, db_path: Path) -> StreamResult:
    database = Database(db_path)
    with database.transaction() as con:
        ensure_schema(con, [USERS])
    try:
        return sync_stream(USERS, client, database)
    finally:
        database.close()


def _rows(db_path: Path, sql: str):
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_odd_values_are_kept_in_extra(db_path: Path):
    huge = "x" * 2_000_000
    body = _page(
        [
            _user("1", firstName=huge, prospectsViewId="many", brandNew={"a": [1]}),
            _user(2, prospectsViewId=1.5, createdAt="yesterday", locked="yes"),
            _user(2, firstName="second copy wins", createdAt="yesterday", locked="yes"),
        ]
    )
    client = _serve(lambda request: httpx.Response(200, content=body))
    result = _sync_users(client, db_path)
    assert result.ok and result.records_inserted == 2
    rows = _rows(
        db_path, "SELECT id, first_name, prospects_view_id, _extra FROM outreach.users ORDER BY id"
    )
    assert rows[0][:3] == (1, huge, None)
    assert orjson.loads(rows[0][3]) == {"prospectsViewId": "many", "brandNew": {"a": [1]}}
    assert rows[1][1] == "second copy wins"
    assert _rows(db_path, "SELECT created_at, locked FROM outreach.users WHERE id = 2") == [
        (None, None)
    ]


def _resource_with(value: bytes) -> bytes:
    return b'{"data": [{"id": 2, "type": "user", "attributes": {"firstName": ' + value + b"}}]}"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"data": [{"id": 2, "attri', id="truncated"),
        pytest.param(_resource_with(b'"Ann \xff\xfe"'), id="invalid-utf8"),
        pytest.param(_resource_with(b'"\\ud800"'), id="lone-surrogate"),
        pytest.param(_resource_with(b"1e400"), id="number-beyond-double"),
        pytest.param(_resource_with(b"[" * 100_000 + b"]" * 100_000), id="nested-100000-deep"),
    ],
)
def test_a_bad_page_stops_the_stream_keeping_earlier_pages(db_path: Path, body: bytes):
    second = f"{API}/users?page[size]=1&page[after]=x"

    def answer(request: httpx.Request) -> httpx.Response:
        if "page[after]" in str(request.url):
            return httpx.Response(200, content=body)
        return httpx.Response(200, content=_page([_user(1, firstName="Ann")], second))

    result = _sync_users(_serve(answer), db_path)
    assert result.error is not None
    assert "stream users" in result.error and "page[after]=x" in result.error
    assert "not valid JSON" in result.error
    assert _rows(db_path, "SELECT id, first_name FROM outreach.users") == [(1, "Ann")]
    assert _rows(db_path, "SELECT resume_url FROM outreach._sync_state") == [(second,)]


def test_missing_data_and_non_utf8_are_reported(db_path: Path):
    for body, problem in (
        (b'{"links": {}}', "no 'data'"),
        (b'{"data": ["\xff"]}', "not valid JSON"),
    ):
        client = _serve(lambda request, body=body: httpx.Response(200, content=body))
        result = _sync_users(client, db_path)
        assert result.error is not None and problem in result.error, result.error
        assert API + "/users" in result.error


def test_ids_that_are_not_numbers_stop_the_stream(db_path: Path):
    client = _serve(lambda request: httpx.Response(200, content=_page([_user("abc")])))
    result = _sync_users(client, db_path)
    assert result.error is not None and "'abc'" in result.error


@pytest.mark.parametrize("status", [400, 422])
def test_a_refused_resume_link_restarts_from_the_cursor(db_path: Path, status: int):
    stale = f"{API}/users?page[size]=1000&page[after]=stale"
    database = Database(db_path)
    with database.transaction() as con:
        ensure_schema(con, [USERS])
        save_state(con, "users", StreamState(cursor="2024-01-01T00:00:00.000Z", resume_url=stale))
    database.close()

    listings = []

    def answer(request: httpx.Request) -> httpx.Response:
        date = {"Date": "Wed, 01 Jan 2025 00:00:10 GMT"}
        if "stale" in str(request.url):
            return httpx.Response(status, content=b'{"errors": []}', headers=date)
        listings.append(request.url.params.get("filter[updatedAt]"))
        return httpx.Response(200, content=_page([_user(1)]), headers=date)

    result = _sync_users(_serve(answer), db_path)
    assert result.ok and result.records_inserted == 1
    # The window: two minutes of overlap below the cursor, up to the server's Date less 1 s,
    # that Date moved on by the time this host took since it came (milliseconds, under load).
    [listing] = listings
    start, end = listing.split("..")
    assert start == "2023-12-31T23:58:00.000Z"
    assert "2025-01-01T00:00:09.000Z" <= end < "2025-01-01T00:00:14.000Z"
    assert result.cursor_after == end
