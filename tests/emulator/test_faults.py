"""Each switchable fault, seen by a client over real HTTP."""

from __future__ import annotations

import time

import httpx
import pytest

from outreach_emulator import Emulator
from tests.emulator.support import all_pages, api_client


@pytest.fixture
def client(emulator: Emulator):
    with api_client(emulator) as client:
        yield client


def test_added_latency(emulator: Emulator, client: httpx.Client) -> None:
    emulator.faults.set(latency=0.2)
    started = time.perf_counter()
    client.get("/users")
    assert time.perf_counter() - started >= 0.2


def test_error_share_answers_5xx(emulator: Emulator, client: httpx.Client) -> None:
    emulator.faults.set(error_rate=1.0)
    statuses = {client.get("/users").status_code for _ in range(30)}
    assert statuses <= {500, 502, 503} and len(statuses) >= 2
    emulator.faults.reset()
    assert client.get("/users").status_code == 200


def test_partial_error_share_is_seeded(make_emulator) -> None:
    def statuses(emulator: Emulator) -> list[int]:
        emulator.faults.set(error_rate=0.3)
        with api_client(emulator) as client:
            return [client.get("/users").status_code for _ in range(40)]

    first, second = statuses(make_emulator()), statuses(make_emulator())
    assert first == second
    assert 200 in first and set(first) - {200}


def test_page_size_limit_answers_502_for_chosen_streams(
    emulator: Emulator, client: httpx.Client
) -> None:
    emulator.faults.set(page_size_limits={"mailings": 100})
    assert client.get("/mailings", params={"page[size]": 1000}).status_code == 502
    assert client.get("/mailings", params={"page[size]": 100}).status_code == 200
    assert client.get("/prospects", params={"page[size]": 1000}).status_code == 200


def test_dropped_connection(emulator: Emulator, client: httpx.Client) -> None:
    emulator.faults.set(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/users")
    emulator.faults.reset()
    assert client.get("/users").status_code == 200


def test_truncated_body(emulator: Emulator, client: httpx.Client) -> None:
    emulator.faults.set(truncate_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/prospects", params={"page[size]": 100})
    emulator.faults.reset()
    assert client.get("/prospects").status_code == 200


def test_out_of_order_pages_still_cover_everything(
    emulator: Emulator, client: httpx.Client
) -> None:
    emulator.faults.set(shuffle_pages=True)
    records = all_pages(client, "prospects", sort="updatedAt", **{"page[size]": 50})
    stamps = [r["attributes"]["updatedAt"] for r in records]
    assert stamps != sorted(stamps)
    assert sorted(r["id"] for r in records) == emulator.data.ids("prospects")


def test_ignored_upper_bound(emulator: Emulator, client: httpx.Client) -> None:
    everything = all_pages(client, "prospects", **{"page[size]": 1000})
    middle = sorted(r["attributes"]["updatedAt"] for r in everything)[100]
    window = {"filter[updatedAt]": f"neginf..{middle}", "page[size]": 1000}
    assert len(all_pages(client, "prospects", **window)) == 101
    emulator.faults.set(ignore_upper_bound=True)
    assert len(all_pages(client, "prospects", **window)) == 200


def test_unknown_fault_name_is_refused(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="unknown faults"):
        emulator.faults.set(gremlins=True)


def test_faults_count_in_stats(emulator: Emulator, client: httpx.Client) -> None:
    emulator.faults.set(error_rate=1.0)
    client.get("/users")
    assert sum(emulator.stats["faults"].values()) == 1


def test_scheduled_maintenance(emulator: Emulator, client: httpx.Client) -> None:
    emulator.faults.set(maintenance_retry_after=30)
    response = client.get("/users")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json()["errors"][0]["id"] == "scheduledServerMaintenance"
