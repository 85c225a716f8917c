"""One of the concurrent runs of the rate-limit case: a full sync whose rate budget lives on the
emulator's test clock, which the test runs ``--speed`` times faster than the wall clock.

Settings come from the ``OUTREACH_*`` environment (a shared token store, this run's own DuckDB
file); prints one JSON line: requests, failed streams, and the errors.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import httpx

from outreach_pipeline.catalog import catalog
from outreach_pipeline.client import RateBudget
from outreach_pipeline.settings import load_settings
from outreach_pipeline.sync import run_sync


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--admin-url", required=True, help="the emulator's /_emulator base")
    parser.add_argument("--speed", type=float, required=True, help="test seconds per real second")
    parser.add_argument("--page-size", type=int, required=True)
    args = parser.parse_args()
    admin = httpx.Client(base_url=args.admin_url, timeout=30)

    def test_clock() -> float:
        return float(admin.get("/clock").json()["now"])

    def test_sleep(seconds: float) -> None:
        time.sleep(seconds / args.speed)

    streams = [replace(s, page_size=args.page_size) for s in catalog().values()]
    results = run_sync(
        load_settings(dotenv=None),
        streams,
        budget=RateBudget(clock=test_clock, sleep=test_sleep),
    )
    report = {
        "requests": sum(r.requests for r in results),
        "failed": [r.stream for r in results if not r.ok],
        "errors": [r.error for r in results if r.error],
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
