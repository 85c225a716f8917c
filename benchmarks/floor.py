"""The floor: a plain httpx loop over every page of every stream, bytes discarded, and the
floor plus load: the same pages bulk-loaded into DuckDB by ``read_json``.

Run as a child by the harness (``python -m benchmarks.floor API_URL [--load-into DB]``, the
access token in ``BENCH_ACCESS_TOKEN``); it asks each stream's catalog page size (1000 for every stream, mailings included).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb
import httpx
import orjson

from benchmarks.measurements import Measurement
from benchmarks.setting import ACCESS_TOKEN_VARIABLE, ROOT, Setting, measure_child
from outreach_pipeline.catalog import default_streams

LINKS = b'],"links":{'
NEXT = b'"next":"'


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


def fetch_all(api_url: str, token: str, pages: Path | None) -> int:
    """Fetch every page; keep them as files under ``pages`` when given. Returns the pages."""
    count = 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=300) as http:
        for stream in default_streams():
            url: str | None = f"{api_url}/{stream.path}?page[size]={stream.page_size}&count=false"
            number = 0
            while url:
                response = http.get(url)
                response.raise_for_status()
                body = response.content
                if pages is not None:
                    (pages / f"{stream.table}-{number:06d}.json").write_bytes(body)
                number += 1
                url = next_link(body)
            count += number
    return count


def load(pages: Path, database: Path) -> None:
    """One table per stream from its page files, records unnested, in one DuckDB statement each."""
    with duckdb.connect(str(database)) as con:
        for stream in default_streams():
            con.execute(
                f"CREATE TABLE {stream.table} AS SELECT unnest(data, recursive := true) "
                f"FROM read_json('{pages}/{stream.table}-*.json', maximum_object_size=1e9)"
            )


def measure(setting: Setting, repeat: int, *, with_load: bool) -> Measurement:
    contender = "floor+load" if with_load else "floor"
    command = [sys.executable, "-m", "benchmarks.floor", setting.emulator.api_url]
    if with_load:
        command += ["--load-into", "floor.duckdb"]
    return measure_child(
        setting,
        contender,
        repeat,
        command,
        env={ACCESS_TOKEN_VARIABLE: setting.grant["access_token"], "PYTHONPATH": str(ROOT)},
        records=lambda _outcome, traffic: traffic.records,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("api_url")
    parser.add_argument("--load-into", type=Path, help="DuckDB file to bulk-load the pages into")
    args = parser.parse_args(argv)
    token = os.environ[ACCESS_TOKEN_VARIABLE]
    if args.load_into is None:
        fetch_all(args.api_url, token, None)
        return 0
    pages = args.load_into.parent / "pages"
    pages.mkdir()
    fetch_all(args.api_url, token, pages)
    load(pages, args.load_into)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
