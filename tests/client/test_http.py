"""The client's retries, waits and page-size halving, against scripted answers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest

from outreach_pipeline.client import FetchError, JsonApiClient, RateBudget
from outreach_pipeline.retry import API_REQUESTS, RetryPolicy

API = "https://api.test/api/v2"
OK = b'{"data": [{"id": 1}]}'


def client_for(
    answer: Callable[[httpx.Request], httpx.Response],
    waits: list[float],
    retry: RetryPolicy | None = None,
) -> JsonApiClient:
    """A client whose waits are recorded in ``waits`` and move a fake clock instead."""
    now = [1_800_000_000.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    def clock() -> float:
        return now[0]

    return JsonApiClient(
        API,
        httpx.Auth(),
        RateBudget(clock=clock, sleep=lambda seconds: None),
        retry=retry or replace(API_REQUESTS, attempts=4, initial_wait=0.01, max_wait=0.02),
        sleep=sleep,
        clock=clock,
        transport=httpx.MockTransport(answer),
    )


def scripted(*responses: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)
    return lambda request: queue.pop(0)


def test_429_waits_as_long_as_retry_after_says():
    waits: list[float] = []
    client = client_for(
        scripted(
            httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, content=OK)
        ),
        waits,
    )
    page = client.fetch_page(f"{API}/users")
    assert page.requests == 2 and waits == [7.0]


def test_5xx_and_bad_bodies_are_retried_then_reported():
    waits: list[float] = []
    client = client_for(
        scripted(
            httpx.Response(500),
            httpx.Response(200, content=b'{"data": [{"id"'),
            httpx.Response(503),
            httpx.Response(200, content=OK),
        ),
        waits,
    )
    assert client.fetch_page(f"{API}/users").requests == 4
    failing = client_for(lambda request: httpx.Response(500), [])
    with pytest.raises(FetchError, match="HTTP 500"):
        failing.fetch_page(f"{API}/users")


def test_dropped_connections_are_retried():
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return httpx.Response(200, content=OK)

    assert client_for(answer, []).fetch_page(f"{API}/users").requests == 2


def test_client_errors_are_not_retried():
    client = client_for(scripted(httpx.Response(404, content=b"{}")), [])
    with pytest.raises(FetchError) as failure:
        client.fetch_page(f"{API}/users")
    assert failure.value.status == 404


def test_502_halves_the_page_size():
    def answer(request: httpx.Request) -> httpx.Response:
        size = int(request.url.params["page[size]"])
        return httpx.Response(502) if size > 300 else httpx.Response(200, content=OK)

    waits: list[float] = []
    page = client_for(answer, waits).fetch_page(
        f"{API}/mailings?page[size]=1000&sort=updatedAt", shrink_on_bad_gateway=True
    )
    # Two 502s at 1000, two at 500: halved at once after the second of each pair.
    assert page.page_size == 250 and page.requests == 5
    assert len(waits) == 4 and waits[1] == waits[3] == 0.0
    assert waits[0] == waits[2] == 0.01, "no backoff growing with each halving"
    assert "sort=updatedAt" in page.url


def test_a_failure_after_halvings_backs_off_as_a_first_failure():
    answers = iter(
        [httpx.Response(502)] * 4 + [httpx.Response(500), httpx.Response(200, content=OK)]
    )
    waits: list[float] = []
    policy = replace(API_REQUESTS, attempts=4, initial_wait=0.01, max_wait=10.0)
    page = client_for(lambda request: next(answers), waits, policy).fetch_page(
        f"{API}/mailings?page[size]=1000", shrink_on_bad_gateway=True
    )
    assert page.page_size == 250 and page.requests == 6 and len(waits) == 5
    # The 500 is the first failure that counts: its backoff is initial_wait with jitter,
    # not initial_wait * 2**4 as if the four 502s had been failures too.
    assert 0.005 <= waits[4] <= 0.01


def test_a_single_502_is_retried_at_the_same_page_size():
    answers = iter([httpx.Response(502), httpx.Response(200, content=OK)])
    page = client_for(lambda request: next(answers), []).fetch_page(
        f"{API}/mailings?page[size]=1000", shrink_on_bad_gateway=True
    )
    assert page.page_size == 1000 and page.requests == 2


def test_relative_next_links_are_made_absolute():
    body = b'{"data": [], "links": {"next": "/api/v2/users?page[after]=abc"}}'
    page = client_for(scripted(httpx.Response(200, content=body)), []).fetch_page(f"{API}/users")
    assert page.next_url == "https://api.test/api/v2/users?page[after]=abc"


def test_the_decoding_slot_is_held_while_a_page_is_read_and_given_back_however_it_ends():
    decoding = threading.BoundedSemaphore(1)
    client = client_for(
        scripted(
            httpx.Response(200, content=b'{"data": [{"id"'),
            httpx.Response(200, content=b'["not", "a", "document"]'),
            httpx.Response(200, content=OK),
            httpx.Response(200, content=OK),
        ),
        [],
    )
    held_while_reading = []

    def read(document):
        held_while_reading.append(not decoding.acquire(blocking=False))
        return len(document.resources)

    page = client.read_page(f"{API}/users", read, decoding=decoding)
    assert page.requests == 3 and page.content == 1 and held_while_reading == [True]

    def failing(document):
        raise KeyError("reading failed")

    with pytest.raises(KeyError):
        client.read_page(f"{API}/users", failing, decoding=decoding)
    # The two bad bodies and the failed read all gave the one slot back.
    assert decoding.acquire(blocking=False)
