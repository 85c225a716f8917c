"""A fetched page's body goes as soon as the page does, without the cycle collector.

httpx's response and its stream refer to each other, so a response read whole kept its body
until the cyclic garbage collector ran: with collections made rare (as a sync makes them),
a full sync at scale 20000 held 1 GB of old pages.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from outreach_emulator import Emulator, bearer_auth
from outreach_pipeline.client import JsonApiClient, RateBudget

PAGES = 30


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_pages_leave_no_body_behind_for_the_collector(
    emulator: Emulator, collector_off: None
) -> None:
    with JsonApiClient(emulator.api_url, bearer_auth(emulator), RateBudget()) as client:
        url = client.url("prospects", {"page[size]": 100, "count": "false"})
        page_bytes = len(httpx.get(url, auth=bearer_auth(emulator)).content)
        client.fetch_page(url)  # connections, caches: whatever a first fetch sets up
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(PAGES):
                page = client.fetch_page(url)
                assert len(page.content.resources) == 100
                del page
            kept = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert kept < 2 * page_bytes, f"{PAGES} pages of {page_bytes} bytes left {kept} bytes"
