"""Generated data: deterministic, consistent, sized as documented, and changed by mutations."""

from __future__ import annotations

import httpx
import pytest

from outreach_emulator import Emulator, EmulatorConfig
from outreach_emulator.population import sizes
from outreach_pipeline.catalog import catalog
from tests.emulator.support import all_pages, api_client


def raw_pages(emulator: Emulator, path: str) -> list[bytes]:
    """Response bodies with the emulator's own address taken out, for byte comparison."""
    bodies = []
    with api_client(emulator) as client:
        response = client.get(f"/{path}", params={"page[size]": 100})
        while True:
            bodies.append(response.content.replace(emulator.base_url.encode(), b"BASE"))
            next_url = response.json().get("links", {}).get("next")
            if not next_url:
                return bodies
            response = client.get(next_url)


def test_same_seed_and_scale_give_byte_identical_data(make_emulator) -> None:
    first, second = make_emulator(seed=11, scale=120), make_emulator(seed=11, scale=120)
    for path in ("prospects", "mailings", "accounts", "users", "events"):
        assert raw_pages(first, path) == raw_pages(second, path), path


def test_another_seed_gives_other_data(make_emulator) -> None:
    first, second = make_emulator(seed=11, scale=120), make_emulator(seed=12, scale=120)
    assert raw_pages(first, "prospects") != raw_pages(second, "prospects")


def test_every_stream_is_served_with_its_documented_size(emulator: Emulator) -> None:
    expected = sizes(emulator.config.scale)
    with api_client(emulator) as client:
        for path in catalog():
            records = all_pages(client, path, **{"page[size]": 1000})
            assert len(records) == expected[path], path
            assert {r["type"] for r in records} == {catalog()[path].jsonapi_type}


def test_proportions_at_the_benchmark_scale() -> None:
    counts = sizes(20_000)
    assert 240_000 <= sum(counts.values()) <= 260_000
    assert counts["prospects"] == 20_000
    assert counts["accounts"] == 2_000
    assert counts["users"] == 200 == counts["mailboxes"]
    assert counts["opportunities"] == 5_000
    assert sizes(10)["users"] == 5


def test_relationships_point_at_existing_records(emulator: Emulator) -> None:
    types = {s.jsonapi_type: s.path for s in catalog().values()}
    existing = {path: set(emulator.data.ids(path)) for path in catalog()}
    for path in catalog():
        for record in emulator.data.records(path):
            for name, relationship in record["relationships"].items():
                data = relationship.get("data")
                linked = data if isinstance(data, list) else [data] if data else []
                for target in linked:
                    assert target["type"] in types, (path, name)
                    assert target["id"] in existing[types[target["type"]]], (path, name)


def test_relationships_agree_with_each_other(emulator: Emulator) -> None:
    task = emulator.data.resource("tasks", 17)["relationships"]
    prospect_id = task["prospect"]["data"]["id"]
    prospect = emulator.data.resource("prospects", prospect_id)["relationships"]
    assert task["account"]["data"] == prospect["account"]["data"]
    mailing = emulator.data.resource("mailings", 17)["relationships"]
    user_id = mailing["user"]["data"]["id"]
    user = emulator.data.resource("users", user_id)["relationships"]
    assert mailing["mailbox"]["data"] == user["mailbox"]["data"]
    email_ids = [e["id"] for e in prospect["emailAddresses"]["data"]]
    for order, email_id in enumerate(email_ids):
        address = emulator.data.resource("emailAddresses", email_id)
        assert address["relationships"]["prospect"]["data"]["id"] == prospect_id
        assert address["attributes"]["order"] == order
    work_email = emulator.data.resource("emailAddresses", email_ids[0])["attributes"]["email"]
    assert emulator.data.resource("prospects", prospect_id)["attributes"]["emails"] == [work_email]
    state_id = mailing["sequenceState"]["data"]["id"]
    state = emulator.data.resource("sequenceStates", state_id)["relationships"]
    assert state["prospect"]["data"] == mailing["prospect"]["data"]
    assert mailing["sequence"]["data"] == state["sequence"]["data"]
    step = emulator.data.resource("sequenceSteps", mailing["sequenceStep"]["data"]["id"])
    assert step["relationships"]["sequence"]["data"] == mailing["sequence"]["data"]


def test_attributes_look_real(emulator: Emulator) -> None:
    prospects = emulator.data.records("prospects")
    first = prospects[0]["attributes"]
    assert first["firstName"] and first["lastName"] and first["emails"]
    assert first["custom100"] is None
    assert any(p["attributes"]["trashedAt"] for p in prospects)
    assert all(p["attributes"]["createdAt"] <= p["attributes"]["updatedAt"] for p in prospects)
    body = emulator.data.records("mailings")[0]["attributes"]["bodyHtml"]
    assert body.startswith("<!DOCTYPE html>") and len(body) > 1500
    event = emulator.data.records("events")[0]["attributes"]
    assert "updatedAt" not in event and event["createdAt"]


def test_data_lies_before_the_data_epoch(emulator: Emulator) -> None:
    epoch = EmulatorConfig().data_epoch
    for record in emulator.data.records("accounts"):
        assert record["attributes"]["updatedAt"] < "2026-01-01T00:00:00.000Z"
    assert epoch == 1767225600


def test_created_records_are_served(emulator: Emulator) -> None:
    created = emulator.data.create(
        "prospects", {"firstName": "Grace", "lastName": "Hopper"}, {"account": 3}
    )
    new_id = created["id"]
    assert new_id == 201
    with api_client(emulator) as client:
        served = client.get(f"/prospects/{new_id}").json()["data"]
        assert served["attributes"]["firstName"] == "Grace"
        assert served["relationships"]["account"]["data"] == {"type": "account", "id": 3}
        newest = client.get("/prospects", params={"sort": "-updatedAt", "page[size]": 1})
        assert newest.json()["data"][0]["id"] == new_id


def test_updates_bump_updated_at_and_show_in_incremental_reads(emulator: Emulator) -> None:
    since = emulator.clock.iso()
    emulator.clock.advance(5)
    updated = emulator.data.update("accounts", 7, {"name": "Renamed Inc"})
    assert updated["attributes"]["updatedAt"] >= since
    with api_client(emulator) as client:
        changed = all_pages(client, "accounts", **{"filter[updatedAt]": f"{since}..inf"})
    assert [r["id"] for r in changed] == [7]
    assert changed[0]["attributes"]["name"] == "Renamed Inc"


def test_silent_updates_change_a_record_but_not_its_updated_at(emulator: Emulator) -> None:
    before = emulator.data.resource("prospects", 5)
    since = emulator.clock.iso()
    emulator.clock.advance(5)
    after = emulator.data.update("prospects", 5, {}, {"stage": 2}, silent=True)
    assert after["relationships"]["stage"]["data"] == {"type": "stage", "id": 2}
    assert after["attributes"]["updatedAt"] == before["attributes"]["updatedAt"]
    with api_client(emulator) as client:
        assert all_pages(client, "prospects", **{"filter[updatedAt]": f"{since}..inf"}) == []
        served = client.get("/prospects/5").json()["data"]
    assert served["relationships"]["stage"]["data"]["id"] == 2


def test_deleted_records_disappear_everywhere(emulator: Emulator) -> None:
    prospect = emulator.data.resource("prospects", 4)["relationships"]
    email_id = prospect["emailAddresses"]["data"][0]["id"]
    emulator.data.delete("emailAddresses", email_id)
    with api_client(emulator) as client:
        assert client.get(f"/emailAddresses/{email_id}").status_code == 404
        ids = [
            r["id"] for r in all_pages(client, "emailAddresses", **{"fields[emailAddress]": "id"})
        ]
        assert email_id not in ids
        again = client.get("/prospects/4").json()["data"]["relationships"]
    assert {"type": "emailAddress", "id": email_id} not in again["emailAddresses"]["data"]


def test_mutations_refuse_unknown_attributes_and_records(emulator: Emulator) -> None:
    with pytest.raises(ValueError):
        emulator.data.create("prospects", {"favouriteColour": "blue"})
    with pytest.raises(KeyError):
        emulator.data.update("prospects", 99999, {"firstName": "x"})


def test_records_match_what_the_api_serves(emulator: Emulator) -> None:
    with api_client(emulator) as client:
        served = all_pages(client, "users", **{"page[size]": 1000})
    assert served == emulator.data.records("users")
    assert httpx.get(emulator.base_url + "/nowhere").status_code == 404


def test_warmed_emulator_serves_the_same_bytes(make_emulator) -> None:
    cold, warmed = make_emulator(seed=11, scale=120), make_emulator(seed=11, scale=120, warm=True)
    assert warmed.stats["warm_seconds"] > 0
    assert len(warmed.data.tables["mailings"].cache) == 360
    for path in ("prospects", "mailings", "sequenceTemplates"):
        assert raw_pages(cold, path) == raw_pages(warmed, path), path
