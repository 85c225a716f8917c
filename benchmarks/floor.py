"""Bare fetch loops over every page of every stream, the bounds our sync is measured against.

- **reference**: one serial keep-alive httpx client, bytes discarded. Not a lower bound: ours
  fetches several streams at once, so with latency added it can beat it.
- **reference+load**: the serial fetch writing every page to a file, then, once everything is
  fetched, one DuckDB ``read_json`` bulk load per stream.
- **floor**: the fetch with as many pages in flight as ours may have (``SyncOptions``'
  ``concurrency`` streams plus ``extra_chains`` chains of cut windows: that many streams at
  once, one chain each, on one client with as many connections as ours allows), bytes
  discarded: a lower bound for fetching, CPU-bound. Under latency ours, which cuts a long
  stream's window into chains read at once, can beat it: its least time there is every page's
  latency over the pages in flight (benchmarks/conditions.py).
- **floor+load**: the concurrent fetch with the load pipelined: the main thread bulk-loads each
  stream's pages as soon as that stream is fetched, while the pool fetches the others.

All four retry a 429, 502, 503 or 504 after its ``Retry-After`` (:func:`fetched`).

Run as a child by the harness (``python -m benchmarks.floor API_URL [--concurrency N]
[--load-into DB [--pipelined]]``, the access token in ``BENCH_ACCESS_TOKEN``); every mode asks
each stream's catalog page size (1000 for every stream, mailings included), as ours does.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import duckdb
import httpx
import orjson

from benchmarks.measurements import Measurement
from benchmarks.setting import ACCESS_TOKEN_VARIABLE, ROOT, Setting, measure_child
from outreach_pipeline.catalog import Stream, default_streams
from outreach_pipeline.retry import retry_after_seconds
from outreach_pipeline.sync import SyncOptions

LINKS = b'],"links":{'
NEXT = b'"next":"'
# Streams fetched at once by the floors: the most pages ours has in flight.
CONCURRENCY = SyncOptions().concurrency + SyncOptions().extra_chains


def next_link(body: bytes) -> str | None:
    """The top-level ``links.next`` of a JSON:API page, found without parsing the records."""
    links = body.rfind(LINKS)
    if links < 0:
        return None
    start = body.find(NEXT, links)
    if start < 0:
        return None
    start += len(NEXT) - 1
    end = body.index(b'"', start + 1)
    return str(orjson.loads(body[start : end + 1]))


# What the latency profile injects (a 502 on some big pages, a 429 now and then) and any client
# must survive: the fetch loops retry these after Retry-After (1 s without one), as ours does,
# so that a floor is a run that completes rather than one that stops at the first 502.
RETRIED = frozenset({429, 502, 503, 504})
RETRIES = 5


def fetched(http: httpx.Client, url: str) -> httpx.Response:
    """``GET url``, retrying the answers in :data:`RETRIED` up to :data:`RETRIES` times."""
    response = http.get(url)
    for _ in range(RETRIES):
        if response.status_code not in RETRIED:
            break
        asked = retry_after_seconds(response.headers.get("retry-after", ""), time.time())
        time.sleep(1.0 if asked is None else asked)
        response = http.get(url)
    response.raise_for_status()
    return response


def fetch_stream(http: httpx.Client, api_url: str, stream: Stream, pages: Path | None) -> int:
    """Fetch every page of one stream; keep them as files under ``pages`` when given."""
    url: str | None = f"{api_url}/{stream.path}?page[size]={stream.page_size}&count=false"
    number = 0
    while url:
        response = fetched(http, url)
        body = response.content
        if pages is not None:
            (pages / f"{stream.table}-{number:06d}.json").write_bytes(body)
        number += 1
        url = next_link(body)
    return number


def fetch_all(
    api_url: str,
    token: str,
    pages: Path | None,
    *,
    concurrency: int = 1,
    on_fetched: Callable[[Stream], None] | None = None,
) -> int:
    """Fetch every page of every stream, ``concurrency`` streams at once; ``on_fetched`` is
    called in this thread for each stream as soon as its last page is in. Returns the pages."""
    limits = httpx.Limits(max_connections=max(4, concurrency * 2))
    headers = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(headers=headers, timeout=300, limits=limits) as http,
        ThreadPoolExecutor(max_workers=concurrency) as pool,
    ):
        futures = {
            pool.submit(fetch_stream, http, api_url, stream, pages): stream
            for stream in default_streams()
        }
        count = 0
        for done in as_completed(futures):
            count += done.result()
            if on_fetched is not None:
                on_fetched(futures[done])
    return count


def load_stream(con: duckdb.DuckDBPyConnection, pages: Path, stream: Stream) -> None:
    """One table from a stream's page files, records unnested, in one DuckDB statement."""
    con.execute(
        f"CREATE TABLE {stream.table} AS SELECT unnest(data, recursive := true) "
        f"FROM read_json('{pages}/{stream.table}-*.json', maximum_object_size=1e9)"
    )


def measure(setting: Setting, repeat: int, contender: str) -> Measurement:
    """``contender`` is one of reference, reference+load, floor, floor+load."""
    command = [sys.executable, "-m", "benchmarks.floor", setting.emulator.api_url]
    if contender.startswith("floor"):
        command += [f"--concurrency={CONCURRENCY}"]
    if contender.endswith("+load"):
        command += ["--load-into", "floor.duckdb"]
    if contender == "floor+load":
        command += ["--pipelined"]
    return measure_child(
        setting,
        contender,
        repeat,
        command,
        env={ACCESS_TOKEN_VARIABLE: setting.grant["access_token"], "PYTHONPATH": str(ROOT)},
        records=lambda _outcome, traffic: traffic.records,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("api_url")
    parser.add_argument("--concurrency", type=int, default=1, help="streams fetched at once")
    parser.add_argument("--load-into", type=Path, help="DuckDB file to bulk-load the pages into")
    parser.add_argument(
        "--pipelined", action="store_true", help="load each stream as soon as it is fetched"
    )
    args = parser.parse_args(argv)
    token = os.environ[ACCESS_TOKEN_VARIABLE]
    if args.load_into is None:
        fetch_all(args.api_url, token, None, concurrency=args.concurrency)
        return 0
    pages = args.load_into.parent / "pages"
    pages.mkdir()
    with duckdb.connect(str(args.load_into)) as con:
        if args.pipelined:
            fetch_all(
                args.api_url,
                token,
                pages,
                concurrency=args.concurrency,
                on_fetched=lambda stream: load_stream(con, pages, stream),
            )
        else:
            fetch_all(args.api_url, token, pages, concurrency=args.concurrency)
            for stream in default_streams():
                load_stream(con, pages, stream)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
