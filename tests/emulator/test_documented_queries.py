"""Documented query features over HTTP: 422 validation errors, every filterable and sortable
attribute, relationship filters, ``include``, offset and unknown paging parameters, writes."""

from __future__ import annotations

import httpx
import pytest

from outreach_emulator import Emulator
from outreach_emulator.api_facts import facts_of
from outreach_pipeline.catalog import catalog
from tests.emulator.support import ALL_READ_SCOPES, all_pages, api_client


@pytest.fixture
def client(emulator: Emulator):
    with api_client(emulator) as client:
        yield client


def _marked(badge: str) -> list[tuple[str, str]]:
    return [
        (path, name)
        for path, stream in sorted(catalog().items())
        for name, facts in facts_of(path).attributes.items()
        if getattr(facts, badge) and name in stream.attributes
    ]


def test_validation_errors_are_422(client: httpx.Client) -> None:
    response = client.get("/prospects", params={"page[size]": "0"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["id"] == "validationError"


@pytest.mark.parametrize(("path", "name"), _marked("sortable"))
def test_every_sortable_attribute_sorts(client: httpx.Client, path: str, name: str) -> None:
    for sort in (name, f"-{name}"):
        records = all_pages(client, path, sort=sort, **{"page[size]": 40})
        values = [r["attributes"][name] for r in records]
        present = [v for v in values if v is not None]
        assert present == sorted(present, reverse=sort.startswith("-")), sort
        assert len({r["id"] for r in records}) == len(records)


@pytest.mark.parametrize(("path", "name"), _marked("filterable"))
def test_every_filterable_attribute_filters(client: httpx.Client, path: str, name: str) -> None:
    records = client.get(f"/{path}", params={"page[size]": 100}).json()["data"]
    held = next((r["attributes"][name] for r in records if r["attributes"][name]), None)
    if held is None:
        pytest.skip(f"no {path}.{name} value in the first page")
    facts = facts_of(path).attributes[name]
    value = held[0] if isinstance(held, list) else held
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if facts.ordered:
        text = f"{text}..{text}"
    found = client.get(f"/{path}", params={f"filter[{name}]": text, "page[size]": 1000})
    assert found.status_code == 200, found.text
    assert found.json()["data"], f"filter[{name}]={text}"
    for record in found.json()["data"]:
        got = record["attributes"][name]
        assert value in got if isinstance(got, list) else got == value


def test_ranges_lists_and_open_ends(client: httpx.Client) -> None:
    events = all_pages(client, "events", sort="eventAt")
    middle = [e["attributes"]["eventAt"] for e in events if e["attributes"]["eventAt"]][10]
    below = all_pages(client, "events", **{"filter[eventAt]": f"neginf..{middle}"})
    assert below and all(e["attributes"]["eventAt"] <= middle for e in below)
    above = all_pages(client, "events", **{"filter[eventAt]": f"{middle}..inf"})
    assert len(below) + len(above) == len([e for e in events if e["attributes"]["eventAt"]]) + 1
    names = client.get("/prospects", params={"filter[firstName]": "Ada,Ben"}).json()["data"]
    assert names and {p["attributes"]["firstName"] for p in names} <= {"Ada", "Ben"}


def test_relationship_filters_beyond_ids(emulator: Emulator, client: httpx.Client) -> None:
    account = emulator.data.resource("accounts", 1)
    name = account["attributes"]["name"]
    by_name = all_pages(client, "prospects", **{"filter[account][name]": name})
    by_id = all_pages(client, "prospects", **{"filter[account][id]": "1"})
    assert by_name and {p["id"] for p in by_id} <= {p["id"] for p in by_name}
    refused = client.get("/prospects", params={"filter[account][addressCity]": "x"})
    assert refused.status_code == 422


def test_include_serves_included(emulator: Emulator, client: httpx.Client) -> None:
    document = client.get("/prospects", params={"include": "account,owner", "page[size]": 5}).json()
    linked = {
        (rel["data"]["type"], rel["data"]["id"])
        for record in document["data"]
        for name, rel in record["relationships"].items()
        if name in ("account", "owner") and rel.get("data")
    }
    included = {(r["type"], r["id"]) for r in document["included"]}
    assert linked and included == linked
    bad = client.get("/prospects", params={"include": "nothing"})
    assert bad.status_code == 422


def test_offset_paging_is_emulated_and_capped(client: httpx.Client) -> None:
    first = client.get("/prospects", params={"page[size]": 10, "page[offset]": 0}).json()
    second = client.get(first["links"]["next"]).json()
    assert [r["id"] for r in second["data"]] == list(range(11, 21))
    assert client.get("/prospects", params={"page[offset]": 10_001}).status_code == 422


@pytest.mark.parametrize("parameter", ["page[number]", "page[limit]"])
def test_unknown_paging_parameters_are_refused(client: httpx.Client, parameter: str) -> None:
    assert client.get("/prospects", params={parameter: 2}).status_code == 422


def test_writes_answer_the_documented_errors(emulator: Emulator) -> None:
    scopes = [*ALL_READ_SCOPES, "accounts.write", "accounts.delete"]
    with api_client(emulator, scopes) as client:
        plain = client.post("/accounts", json={"data": {"type": "account"}})
        assert plain.status_code == 415
        assert plain.json()["errors"][0]["id"] == "unsupportedMediaType"
        jsonapi = {"Content-Type": "application/vnd.api+json"}

        def post(document: dict) -> httpx.Response:
            return client.post(
                "/accounts", content=httpx.Request("P", "/", json=document).content, headers=jsonapi
            )

        assert post({"data": {"type": "prospect"}}).status_code == 422
        assert (
            post({"data": {"type": "account", "attributes": {"createdAt": "x"}}}).status_code == 422
        )
        created = post({"data": {"type": "account", "attributes": {"name": "Made Here"}}})
        assert created.status_code == 201
        new_id = created.json()["data"]["id"]
        assert client.get(f"/accounts/{new_id}").json()["data"]["attributes"]["name"] == "Made Here"
        assert client.delete(f"/accounts/{new_id}").status_code == 204
        assert client.get(f"/accounts/{new_id}").status_code == 404
        assert client.delete("/accounts").status_code == 405
    with api_client(emulator) as reader:
        refused = reader.post("/accounts", json={}, headers=jsonapi)
        assert refused.status_code == 403
