"""REST listings over HTTP: JSON:API shape, paging, counts, filters, sorting, fields, errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from outreach_emulator import Emulator
from outreach_emulator.clock import iso_ms
from tests.emulator.support import all_pages, api_client


@pytest.fixture
def client(emulator: Emulator):
    with api_client(emulator) as client:
        yield client


def updated_at(record: dict) -> str:
    return record["attributes"]["updatedAt"]


def test_collection_document_shape(emulator: Emulator, client: httpx.Client) -> None:
    response = client.get("/prospects", params={"page[size]": 5})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.api+json"
    document = response.json()
    assert set(document) == {"data", "links", "meta"}
    assert len(document["data"]) == 5
    assert "count" not in document["meta"]
    record = document["data"][0]
    assert set(record) == {"type", "id", "attributes", "relationships", "links"}
    assert record["type"] == "prospect" and isinstance(record["id"], int)
    assert record["links"]["self"] == f"{emulator.api_url}/prospects/{record['id']}"
    relationships = record["relationships"]
    assert relationships["account"]["data"] == {"type": "account", "id": 1}
    assert relationships["defaultPluginMapping"] == {"data": None}
    assert isinstance(relationships["emailAddresses"]["data"], list)
    assert set(relationships["mailings"]) == {"links"}
    assert relationships["mailings"]["links"]["related"].startswith(emulator.api_url)


def test_default_page_size_is_fifty(client: httpx.Client) -> None:
    assert len(client.get("/prospects").json()["data"]) == 50


def test_paging_reaches_every_record_once(emulator: Emulator, client: httpx.Client) -> None:
    records = all_pages(client, "prospects", **{"page[size]": 37})
    assert [r["id"] for r in records] == emulator.data.ids("prospects")


def test_next_link_is_opaque_and_keeps_other_parameters(client: httpx.Client) -> None:
    params = {"page[size]": "10", "sort": "-updatedAt", "count": "false", "custom": "kept"}
    document = client.get("/prospects", params=params).json()
    next_url = document["links"]["next"]
    query = dict(parse_qsl(urlsplit(next_url).query))
    after = query.pop("page[after]")
    assert query == params
    assert not after.isdigit()
    first = dict(parse_qsl(urlsplit(document["links"]["first"]).query))
    assert first == params
    second = client.get(next_url).json()
    assert {r["id"] for r in second["data"]}.isdisjoint(r["id"] for r in document["data"])


def test_tampered_cursor_is_a_validation_error(client: httpx.Client) -> None:
    response = client.get("/prospects", params={"page[after]": "not-a-cursor"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["id"] == "validationError"


def test_cursor_of_another_sort_order_is_refused(client: httpx.Client) -> None:
    next_url = client.get("/prospects", params={"page[size]": 2}).json()["links"]["next"]
    after = dict(parse_qsl(urlsplit(next_url).query))["page[after]"]
    response = client.get("/prospects", params={"page[after]": after, "sort": "updatedAt"})
    assert response.status_code == 422


def test_empty_result_has_no_links(client: httpx.Client) -> None:
    response = client.get("/prospects", params={"filter[id]": "999999"})
    document = response.json()
    assert document["data"] == []
    assert "links" not in document


def test_last_page_has_no_next(client: httpx.Client) -> None:
    document = client.get("/prospects", params={"page[size]": 1000}).json()
    assert len(document["data"]) == 200
    assert "next" not in document["links"]


@pytest.mark.parametrize("size", ["1001", "0", "many"])
def test_bad_page_size_is_a_validation_error(client: httpx.Client, size: str) -> None:
    response = client.get("/prospects", params={"page[size]": size})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["id"] == "validationError"
    assert error["source"]["pointer"] == "/page[size]"


def test_count_true_adds_the_count_and_false_omits_it(client: httpx.Client) -> None:
    counted = client.get("/prospects", params={"count": "true", "page[size]": 3}).json()
    assert counted["meta"]["count"] == 200
    uncounted = client.get("/prospects", params={"count": "false"}).json()
    assert "count" not in uncounted["meta"]
    filtered = client.get("/prospects", params={"count": "true", "filter[id]": "1..10"})
    assert filtered.json()["meta"]["count"] == 10


def test_updated_at_range_is_inclusive(emulator: Emulator, client: httpx.Client) -> None:
    everything = all_pages(client, "prospects", **{"page[size]": 1000})
    stamps = sorted(updated_at(r) for r in everything)
    low, high = stamps[50], stamps[120]
    chosen = all_pages(client, "prospects", **{"filter[updatedAt]": f"{low}..{high}"})
    expected = {r["id"] for r in everything if low <= updated_at(r) <= high}
    assert {r["id"] for r in chosen} == expected
    assert len(expected) >= 71


def test_inf_and_neginf_bounds(client: httpx.Client) -> None:
    everything = all_pages(client, "prospects", **{"page[size]": 1000})
    middle = sorted(updated_at(r) for r in everything)[100]
    newer = all_pages(client, "prospects", **{"filter[updatedAt]": f"{middle}..inf"})
    older = all_pages(client, "prospects", **{"filter[updatedAt]": f"neginf..{middle}"})
    assert {r["id"] for r in newer} == {r["id"] for r in everything if updated_at(r) >= middle}
    assert {r["id"] for r in older} == {r["id"] for r in everything if updated_at(r) <= middle}


def test_new_filter_syntax(client: httpx.Client) -> None:
    everything = all_pages(client, "prospects", **{"page[size]": 1000})
    middle = sorted(updated_at(r) for r in everything)[100]
    newer = all_pages(
        client, "prospects", **{"newFilterSyntax": "true", "filter[updatedAt][gte]": middle}
    )
    assert {r["id"] for r in newer} == {r["id"] for r in everything if updated_at(r) >= middle}


def test_created_at_and_id_filters(client: httpx.Client) -> None:
    everything = all_pages(client, "calls", **{"page[size]": 1000})
    cutoff = sorted(r["attributes"]["createdAt"] for r in everything)[30]
    older = all_pages(client, "calls", **{"filter[createdAt]": f"neginf..{cutoff}"})
    assert len(older) == 31
    listed = all_pages(client, "calls", **{"filter[id]": "3,5,8"})
    assert [r["id"] for r in listed] == [3, 5, 8]
    ranged = all_pages(client, "calls", **{"filter[id]": "10..14"})
    assert [r["id"] for r in ranged] == [10, 11, 12, 13, 14]


def test_events_filter_by_created_at_and_refuse_updated_at(client: httpx.Client) -> None:
    events = client.get("/events", params={"filter[createdAt]": "2000-01-01T00:00:00.000Z..inf"})
    assert events.status_code == 200 and events.json()["data"]
    assert "updatedAt" not in events.json()["data"][0]["attributes"]
    refused = client.get("/events", params={"filter[updatedAt]": "2000-01-01..inf"})
    assert refused.status_code == 422


@pytest.mark.parametrize("sort", ["updatedAt", "-updatedAt", "id", "-id", "createdAt"])
def test_sort_orders_across_pages(client: httpx.Client, sort: str) -> None:
    records = all_pages(client, "prospects", sort=sort, **{"page[size]": 23})
    field = sort.lstrip("-")
    keys = [(r["id"] if field == "id" else r["attributes"][field], r["id"]) for r in records]
    assert keys == sorted(keys, reverse=sort.startswith("-"))
    assert len({r["id"] for r in records}) == 200


def test_id_as_a_second_sort_key_is_accepted(client: httpx.Client) -> None:
    plain = client.get("/prospects", params={"sort": "updatedAt"}).json()["data"]
    with_id = client.get("/prospects", params={"sort": "updatedAt,id"}).json()["data"]
    assert with_id == plain


def test_sort_or_filter_the_definition_does_not_mark_is_refused(client: httpx.Client) -> None:
    assert client.get("/prospects", params={"sort": "addressCity"}).status_code == 422
    assert client.get("/prospects", params={"sort": "updatedAt,firstName"}).status_code == 422
    assert client.get("/prospects", params={"filter[addressCity]": "Boston"}).status_code == 422


def test_sparse_fieldsets(client: httpx.Client) -> None:
    ids_only = client.get("/prospects", params={"fields[prospect]": "id", "page[size]": 3})
    for record in ids_only.json()["data"]:
        assert set(record) == {"type", "id", "links"}
    some = client.get("/prospects", params={"fields[prospect]": "firstName,updatedAt,account"})
    record = some.json()["data"][0]
    assert set(record["attributes"]) == {"firstName", "updatedAt"}
    assert set(record["relationships"]) == {"account"}
    assert client.get("/prospects", params={"fields[prospect]": "nope"}).status_code == 422


def test_single_record_and_missing_one(emulator: Emulator, client: httpx.Client) -> None:
    response = client.get("/accounts/3")
    assert response.status_code == 200
    assert response.json()["data"] == emulator.data.resource("accounts", 3)
    missing = client.get("/accounts/99999")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["id"] == "resourceNotFound"


def test_unknown_stream_is_not_found(client: httpx.Client) -> None:
    assert client.get("/widgets").status_code == 404


def test_missing_scope_is_forbidden(emulator: Emulator) -> None:
    with api_client(emulator, ["prospects.read"]) as client:
        assert client.get("/prospects").status_code == 200
        response = client.get("/mailings")
    assert response.status_code == 403
    assert response.json()["errors"][0]["id"] == "unauthorizedOauthScope"


def test_all_scope_grants_reading(emulator: Emulator) -> None:
    with api_client(emulator, ["mailings.all"]) as client:
        assert client.get("/mailings").status_code == 200


def test_unknown_token_is_unauthorized_with_the_observed_body(emulator: Emulator) -> None:
    response = httpx.get(emulator.api_url + "/prospects", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid JWT token."
    assert httpx.get(emulator.api_url + "/prospects").status_code == 401


def test_timestamps_have_milliseconds_and_zulu(client: httpx.Client) -> None:
    stamp = updated_at(client.get("/prospects").json()["data"][0])
    assert len(stamp) == 24 and stamp.endswith("Z") and stamp[19] == "."
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"


def test_relationship_filters_and_related_links(emulator: Emulator, client: httpx.Client) -> None:
    prospect = client.get("/prospects/5").json()["data"]
    related = prospect["relationships"]["mailings"]["links"]["related"]
    mailings = client.get(related).json()["data"]
    assert mailings and {m["relationships"]["prospect"]["data"]["id"] for m in mailings} == {5}
    expected = [
        r["id"]
        for r in emulator.data.records("tasks")
        if (r["relationships"]["account"]["data"] or {}).get("id") in (1, 2)
    ]
    tasks = all_pages(client, "tasks", **{"filter[account][id]": "1,2"})
    assert [t["id"] for t in tasks] == expected and expected
    created = emulator.data.create("mailings", {"subject": "Hi"}, {"prospect": 5})
    emulator.data.update("mailings", mailings[0]["id"], {}, {"prospect": 6})
    now = [m["id"] for m in client.get(related).json()["data"]]
    assert created["id"] in now and mailings[0]["id"] not in now


def test_concurrent_readers_each_get_their_whole_stream(emulator: Emulator) -> None:
    paths = ["prospects", "mailings", "tasks", "events", "calls", "emailAddresses"]

    def read(path: str) -> list[int]:
        with api_client(emulator) as client:
            return [r["id"] for r in all_pages(client, path, **{"page[size]": 100})]

    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        results = dict(zip(paths, pool.map(read, paths), strict=True))
    for path in paths:
        assert results[path] == emulator.data.ids(path), path
