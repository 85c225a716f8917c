"""Case 9, bad input from the API, beyond tests/sync/test_bad_input.py (odd values, unreadable
pages: truncated, invalid UTF-8, lone surrogates, numbers beyond a double, nesting past the
parser's limit) and tests/sync/test_parsing_properties.py (parser and converter properties):

- hostile values served by the emulator over HTTP (SQL-looking strings, a 10 MB string, NUL
  bytes, 200-deep JSON, integers past int64, extreme timestamps) land faithfully, typed or in
  ``_extra``, through the whole sync;
- a hypothesis fuzz of pages of hostile values into a real DuckDB file: every page is stored
  faithfully or the stream stops with an error naming the stream and page, and the table stays
  whole (one row per id, readable, earlier pages kept);
- JSON nested deeper than orjson writes (256 to 1024 levels, which it reads) is stored
  faithfully all the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach_emulator import Emulator, bearer_auth
from outreach_pipeline.catalog import stream
from outreach_pipeline.client import RateBudget
from outreach_pipeline.sync import run_sync
from tests.reliability.figures import report
from tests.sync.conftest import QUICK_RETRY
from tests.sync.support import (
    assert_landing_equals_emulator,
    row_differences,
    settings_for,
    stored_rows,
)
from tests.sync.test_bad_input import API, _page, _serve, _sync_users, _user
from tests.sync.test_parsing_properties import json_values

PROSPECTS = stream("prospects")
USERS = stream("users")
SQL_LOOKING = "Robert'); DROP TABLE outreach.prospects; --"


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_PROSPECT = {
    "firstName": SQL_LOOKING,
    "lastName": 'x" OR 1=1; SELECT * FROM duckdb_settings(); --',
    "personalNote1": "€" * (10 * 1024 * 1024 // 3),  # 10 MB of UTF-8
    "personalNote2": "NUL\x00inside\x00",
    "title": "\u202eRTL \ufeff BOM 😀",
    "contactHistogram": nested(200),
    "clickCount": 2**63,
    "openCount": 2**64 - 1,
    "replyCount": 1.5,
    "score": 1.7e308,
    "engagedScore": -1e-320,
    "touchedAt": "9999-12-31T23:59:59.999Z",
    "optedOutAt": "0001-01-01T00:00:00.000Z",
    "dateOfBirth": "10000-01-01",
    "tags": ["fine", "", "\x00"],
}


def _intact(db_path: Path, table: str) -> tuple[int, int]:
    """(rows, distinct ids) of ``table``, read by a fresh connection."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        row = con.execute(f"SELECT count(*), count(DISTINCT id) FROM outreach.{table}").fetchone()
    assert row is not None
    return row[0], row[1]


def test_hostile_values_from_the_emulator_land_faithfully(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(scale=20)
    created = [emulator.data.create("prospects", HOSTILE_PROSPECT) for _ in range(2)]
    emulator.clock.advance(2)  # inside the run's window, which ends 1 s before the API's time
    db_path = tmp_path / "landing.duckdb"
    results = run_sync(
        settings_for(emulator, db_path),
        [PROSPECTS],
        auth=bearer_auth(emulator, [PROSPECTS]),
        budget=RateBudget(),
        retry=QUICK_RETRY,
    )
    assert all(r.ok for r in results), [r.error for r in results]
    assert_landing_equals_emulator(emulator, db_path, [PROSPECTS])
    stored = stored_rows(db_path, PROSPECTS)[int(created[0]["id"])]
    assert stored["first_name"] == SQL_LOOKING and stored["personal_note2"] == "NUL\x00inside\x00"
    assert stored["_extra"]["clickCount"] == 2**63
    rows, ids = _intact(db_path, PROSPECTS.table)
    assert rows == ids == len(emulator.data.records("prospects"))
    report("hostile values", stored_faithfully=len(HOSTILE_PROSPECT), records=rows)


hostile_text = st.sampled_from(
    [SQL_LOOKING, "\x00", "'", '"', "\\", "%s", "?", "$1", "\ud7ff", "\U0010ffff", "a" * 70_000]
) | st.text(max_size=20)
# The parser properties' JSON values, with hostile strings and unsigned 64-bit integers added.
hostile_json = (
    json_values
    | hostile_text
    | st.integers(2**63, 2**64 - 1)
    | st.lists(hostile_text, max_size=3)
    | st.dictionaries(hostile_text, json_values, max_size=3)
)
hostile_users = st.lists(
    st.builds(
        lambda record_id, values: _user(record_id, **values),
        st.integers(1, 30),
        st.dictionaries(st.sampled_from(sorted(USERS.attributes)) | hostile_text, hostile_json),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages=st.lists(hostile_users, min_size=1, max_size=3))
def test_fuzzed_pages_are_stored_or_stop_the_stream_cleanly(tmp_path_factory, pages) -> None:
    db_path = tmp_path_factory.mktemp("fuzz") / "landing.duckdb"
    bodies = {}
    for number, resources in enumerate(pages):
        next_url = f"{API}/users?page[after]={number + 1}" if number + 1 < len(pages) else None
        bodies[str(number)] = _page(resources, next_url)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies[request.url.params.get("page[after]", "0")])

    result = _sync_users(_serve(answer), db_path)
    rows, ids = _intact(db_path, USERS.table)
    assert rows == ids
    if result.error is not None:
        assert result.error.startswith("stream users: page https://api.test/"), result.error
        return
    served = {int(r["id"]): r for page in pages for r in page}
    stored = stored_rows(db_path, USERS)
    assert stored.keys() == served.keys()
    for record_id, resource in served.items():
        assert row_differences(USERS, resource, stored[record_id]) == {}


def test_json_nested_deeper_than_orjson_writes_is_stored_faithfully(tmp_path: Path) -> None:
    """orjson reads up to 1024 levels but writes only 255: such a value still lands in
    ``_extra`` as the API sent it, and the stream goes on."""
    body = orjson.dumps({"data": [_user(1, brandNew=nested(240))]})
    deeper = body.replace(b"[]", b"[" * 60 + b"[]" + b"]" * 60)  # 300 levels: parses, won't dump
    answer = _serve(lambda request: httpx.Response(200, content=deeper))
    db_path = tmp_path / "landing.duckdb"
    result = _sync_users(answer, db_path)
    assert result.ok, result.error
    with duckdb.connect(str(db_path), read_only=True) as con:
        row = con.execute("SELECT _extra FROM outreach.users WHERE id = 1").fetchone()
    assert row is not None
    assert (
        orjson.loads(deeper)["data"][0]["attributes"]["brandNew"] == json.loads(row[0])["brandNew"]
    )
