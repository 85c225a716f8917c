"""Per-user request budget in fixed hourly windows of the emulator's clock.

Outreach allows 10,000 requests per hour per user and reports the budget in
``X-RateLimit-Limit/Remaining/Reset`` on every answer; over budget it answers 429 with
``Retry-After``. Some answers were seen with two remaining values (``"9999, 19988"``):
``two_values`` adds a second, org-wide budget of twice the user limit. Each emulated org has
its own limiter; keys are ``user:<id>`` (ids of that org) or ``app:<install>`` (S2S tokens).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from typing import Any

from outreach_emulator.clock import Clock

WINDOW = 3600


class RateLimiter:
    """``limit`` requests per ``window`` seconds (an hour, as Outreach; a benchmark shortens
    it, with the limit scaled alike, so that the budget binds within minutes)."""

    def __init__(
        self, limit: int, clock: Clock, two_values: bool = False, window: int = WINDOW
    ) -> None:
        self.limit = limit
        self.clock = clock
        self.two_values = two_values
        self.window = window
        self._lock = threading.Lock()
        self._used: Counter[tuple[str, int]] = Counter()
        self.refused = 0
        self._asked: Counter[str] = Counter()  # every request, allowed or not, by key
        self._refused: Counter[str] = Counter()

    def spend(self, key: str) -> tuple[bool, list[tuple[str, str]]]:
        """Count one request for ``key``; (allowed, headers to send with the answer)."""
        now = self.clock.now()
        window = int(now // self.window)
        with self._lock:
            self._asked[key] += 1
            used = self._used[(key, window)]
            allowed = used < self.limit
            if allowed:
                used += 1
                self._used[(key, window)] = used
                self._used[("*org*", window)] += 1
            else:
                self.refused += 1
                self._refused[key] += 1
            org_used = self._used[("*org*", window)]
        reset = (window + 1) * self.window
        remaining = str(max(0, self.limit - used))
        if self.two_values:
            remaining += f", {max(0, 2 * self.limit - org_used)}"
        headers = [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", remaining),
            ("X-RateLimit-Reset", str(reset)),
        ]
        if not allowed:
            headers.append(("Retry-After", str(max(1, math.ceil(reset - now)))))
        return allowed, headers

    def usage(self) -> dict[str, Any]:
        """API requests (allowed or refused) and 429s so far, by user id (a string, as in JSON)."""
        with self._lock:
            return {
                "requests_by_user": _by_user(self._asked),
                "rate_limited_by_user": _by_user(self._refused),
            }

    def exceeded_detail(self) -> str:
        reset = (int(self.clock.now() // self.window) + 1) * self.window
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(reset))
        return (
            f"You have exceeded your permitted rate limit of {self.limit:,}; "
            f"please try again at {at}."
        )


def _by_user(counts: Counter[str]) -> dict[str, int]:
    return {key[5:]: n for key, n in counts.items() if key.startswith("user:")}
