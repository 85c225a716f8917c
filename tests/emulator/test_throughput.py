"""Serving speed to a plain keep-alive httpx loop (page[size]=1000): run with ``-m slow -s``.

Two client loops: ``raw`` reads bytes and finds ``links.next`` in the page's tail (what the
server can serve), ``orjson`` parses every page (what a parsing client sees). Each runs cold
(records generated on first request) and then again from the byte cache.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import orjson
import pytest

from outreach_emulator import Emulator
from outreach_pipeline.catalog import catalog
from tests.emulator.support import api_client

pytestmark = pytest.mark.slow
NEXT_LINK = re.compile(rb'"next":"([^"]+)"')


def raw_page(body: bytes) -> tuple[int, str | None]:
    found = NEXT_LINK.search(body[-4096:])
    return body.count(b'"links":{"self"'), found.group(1).decode() if found else None


def parsed_page(body: bytes) -> tuple[int, str | None]:
    document = orjson.loads(body)
    return len(document["data"]), document.get("links", {}).get("next")


def measure(
    client: httpx.Client, paths: list[str], read: Callable[[bytes], tuple[int, str | None]]
) -> tuple[int, int, float]:
    """(pages, records, seconds) of a full read of ``paths``."""
    started = time.perf_counter()
    pages = records = 0
    for path in paths:
        response = client.get(f"/{path}", params={"page[size]": 1000})
        while True:
            count, next_url = read(response.content)
            pages, records = pages + 1, records + count
            if not next_url:
                break
            response = client.get(next_url)
    return pages, records, time.perf_counter() - started


def test_throughput_at_scale_2000(make_emulator) -> None:
    emulator: Emulator = make_emulator(scale=2000)
    total = sum(emulator.data.counts().values())
    with api_client(emulator) as client:
        for loop, read in (("raw", raw_page), ("raw", raw_page), ("orjson", parsed_page)):
            for label, paths in (("prospects", ["prospects"]), ("all streams", list(catalog()))):
                pages, records, seconds = measure(client, paths, read)
                print(
                    f"\n{loop:6} {label:11}: {records} records, {pages} pages in {seconds:.2f}s"
                    f" = {records / seconds:,.0f} records/s, {pages / seconds:.1f} pages/s"
                )
    assert records == total
