"""One process of the concurrent-refresh test: requests through the shared grant until a deadline.

Settings come from the ``OUTREACH_*`` environment (``OUTREACH_GRANT`` picks the grant). Prints
``ready`` once set up, then reads the start time (epoch seconds) from stdin and, at the end,
prints one JSON line of counts and of when each of its refreshes was saved.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter

import httpx

from outreach_pipeline.auth import AuthError, build_auth
from outreach_pipeline.auth.httpx_auth import BearerTokenAuth
from outreach_pipeline.auth.token_manager import TokenManager
from outreach_pipeline.auth.token_manager import log as token_log
from outreach_pipeline.settings import load_settings


class RefreshTimes(logging.Handler):
    """When each refresh of this process was saved: the token manager logs it right after."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.times: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("refreshed the Outreach access token"):
            self.times.append(record.created)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    settings = load_settings(dotenv=None)
    auth = build_auth(settings)
    assert isinstance(auth, BearerTokenAuth) and isinstance(auth.tokens, TokenManager)
    refresh_times = RefreshTimes()
    token_log.addHandler(refresh_times)
    token_log.setLevel(logging.INFO)
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    time.sleep(max(0.0, start_at - time.time()))
    deadline = start_at + args.seconds
    with httpx.Client(auth=auth, timeout=30) as client:
        while time.time() < deadline:
            try:
                response = client.get(f"{settings.api_url}/users", params={"page[size]": 1})
                statuses[response.status_code] += 1
            except (AuthError, httpx.HTTPError) as error:
                errors[type(error).__name__] += 1
    report = {
        "requests": sum(statuses.values()) + sum(errors.values()),
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": dict(errors),
        "refreshes": auth.tokens.refreshes,
        "grant": settings.grant,
        "refresh_times": refresh_times.times,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
