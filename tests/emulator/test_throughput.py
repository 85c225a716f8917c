"""Serving speed to a plain keep-alive httpx loop (page[size]=1000): run with ``-m slow -s``."""

from __future__ import annotations

import time

import httpx
import pytest

from outreach_pipeline.catalog import catalog
from outreach_pipeline.emulator import Emulator
from tests.emulator.support import api_client

pytestmark = pytest.mark.slow


def read_all(client: httpx.Client, path: str) -> tuple[int, int]:
    """(pages, records) of one full read, following links.next."""
    pages = records = 0
    response = client.get(f"/{path}", params={"page[size]": 1000})
    while True:
        document = response.json()
        pages += 1
        records += len(document["data"])
        next_url = document.get("links", {}).get("next")
        if not next_url:
            return pages, records
        response = client.get(next_url)


def measure(client: httpx.Client, paths: list[str]) -> tuple[int, int, float]:
    started = time.perf_counter()
    pages = records = 0
    for path in paths:
        p, r = read_all(client, path)
        pages, records = pages + p, records + r
    return pages, records, time.perf_counter() - started


def test_throughput_at_scale_2000(make_emulator) -> None:
    emulator: Emulator = make_emulator(scale=2000)
    with api_client(emulator) as client:
        for label, paths in (("prospects", ["prospects"]), ("all streams", list(catalog()))):
            for attempt in ("cold", "warm"):
                pages, records, seconds = measure(client, paths)
                print(
                    f"\n{label} ({attempt}): {records} records, {pages} pages in {seconds:.2f}s "
                    f"= {records / seconds:,.0f} records/s, {pages / seconds:.1f} pages/s"
                )
    assert records == sum(emulator.data.counts().values())
