"""Switchable misbehaviour, so clients can be tested against what the real API does wrong.

Every random decision comes from one RNG seeded from the emulator's seed, so a test that sets
the same faults against the same request sequence sees the same failures.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from outreach_emulator.latency import latency_model
from outreach_emulator.messages import Response, api_error, text_response

T = TypeVar("T")
# What a failing gateway or backend answers, by status.
INJECTED_ERRORS: dict[int, Callable[[], Response]] = {
    500: lambda: api_error(500, "internalServerError", "Internal Server Error", "Injected fault."),
    502: lambda: text_response(
        502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
    ),
    503: lambda: text_response(503, "no healthy upstream"),
}
# Answers with at least this many records are "big pages" for ``big_page_error_rate``.
BIG_PAGE_RECORDS = 500
# Retry-After of a ``throttle_rate`` 429: the short burst limit, not the hourly budget.
THROTTLE_RETRY_AFTER = 1


@dataclass
class FaultSettings:
    """What is currently switched on. Shares are probabilities per ``/api`` request."""

    latency: float = 0.0  # seconds added to every /api and /oauth request
    # a named latency distribution (outreach_emulator/latency.py), drawn per request and added
    latency_profile: str = "none"
    error_rate: float = 0.0  # answered 500, 502 or 503 instead
    # share of answers with BIG_PAGE_RECORDS records or more answered 502 instead (after
    # their latency, as a gateway timing out on a slow backend)
    big_page_error_rate: float = 0.0
    # share of /api requests answered 429 with Retry-After THROTTLE_RETRY_AFTER (a burst
    # limit, besides the hourly budget of --rate-limit)
    throttle_rate: float = 0.0
    drop_rate: float = 0.0  # connection closed without an answer
    truncate_rate: float = 0.0  # full Content-Length sent, body cut short, connection closed
    # stream path -> largest page[size] served; above it a 502, as Outreach does for mailings
    page_size_limits: dict[str, int] = field(default_factory=dict)
    # > 0: every /api request answers 503 scheduledServerMaintenance with this Retry-After
    maintenance_retry_after: int = 0
    shuffle_pages: bool = False  # records within a page come out of order
    ignore_upper_bound: bool = False  # filter[...]=A..B acts as A..inf
    # statuses (429 or 503) answered by the next token requests, one each, in order
    token_failures: list[int] = field(default_factory=list)


# Named sets of faults, for ``outreach-pipeline emulator --faults PROFILE``.
PROFILES: dict[str, dict[str, Any]] = {
    "none": {},
    # What connectors report of the real API, at rates a day of syncing meets (the fact sheet,
    # [code]): mailings answer 502 above 100 records a page (observed at 1000, the threshold is
    # a guess: connectors settle on 100), a gateway 5xx now and then, one token-endpoint 429
    # and one 503 ("Retry later", "no healthy upstream"), 50 ms of network latency.
    "realistic": {
        "latency": 0.05,
        "error_rate": 0.01,
        "page_size_limits": {"mailings": 100},
        "token_failures": [429, 503],
    },
    # Everything that has been seen at once and often: order not kept within pages, upper
    # bounds ignored, dropped and truncated connections, one request in ten failing.
    "hostile": {
        "latency": 0.05,
        "error_rate": 0.1,
        "drop_rate": 0.02,
        "truncate_rate": 0.02,
        "page_size_limits": {"mailings": 100},
        "shuffle_pages": True,
        "ignore_upper_bound": True,
        "token_failures": [429, 503, 429],
    },
}


class Faults:
    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        # Latency has its own RNG: switching it on leaves the faults a seed gives unchanged.
        self._latency_rng = random.Random(-seed)
        self.settings = FaultSettings()

    def set(self, **changes: Any) -> FaultSettings:
        """Switch faults on or off by name, e.g. ``set(error_rate=0.2, token_failures=[429])``."""
        known = {f.name for f in dataclasses.fields(FaultSettings)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {sorted(known)}")
        with self._lock:
            for name, value in changes.items():
                if name == "token_failures":
                    value = [int(status) for status in value]
                elif name == "page_size_limits":
                    value = {str(path): int(limit) for path, limit in value.items()}
                elif name == "latency_profile":
                    latency_model(str(value))
                setattr(self.settings, name, value)
            return self.settings

    def use_profile(self, name: str) -> FaultSettings:
        """Everything off, then the faults of profile ``name`` (see :data:`PROFILES`)."""
        if name not in PROFILES:
            raise ValueError(f"unknown fault profile {name!r}; known: {sorted(PROFILES)}")
        self.reset()
        return self.set(**PROFILES[name])

    def reset(self) -> FaultSettings:
        """Everything off, RNG back to its seed."""
        with self._lock:
            self.settings = FaultSettings()
            self._rng = random.Random(self._seed)
            self._latency_rng = random.Random(-self._seed)
            return self.settings

    def snapshot(self) -> dict[str, Any]:
        return dataclasses.asdict(self.settings)

    def _chance(self, share: float) -> bool:
        if share <= 0:
            return False
        with self._lock:
            return self._rng.random() < share

    def profile_delay(self, records: int) -> float:
        """Seconds the latency profile adds to an answer with ``records`` records (0 without
        a profile; the fixed ``latency`` is waited besides)."""
        model = latency_model(self.settings.latency_profile)
        if model is None:
            return 0.0
        with self._lock:
            return model.draw(records, self._latency_rng)

    def fails_big_page(self, records: int) -> bool:
        return records >= BIG_PAGE_RECORDS and self._chance(self.settings.big_page_error_rate)

    def should_truncate(self) -> bool:
        return self._chance(self.settings.truncate_rate)

    def intercept(self) -> tuple[str, Response] | None:
        """(fault kind, answer) when a fault answers this /api request instead of the API."""
        if self._chance(self.settings.drop_rate):
            return "dropped", Response(0, drop=True)
        retry_after = self.settings.maintenance_retry_after
        if retry_after > 0:
            response = api_error(
                503,
                "scheduledServerMaintenance",
                "Scheduled Server Maintenance",
                "The API is down for scheduled maintenance.",
            )
            response.headers.append(("Retry-After", str(retry_after)))
            return "maintenance", response
        if self._chance(self.settings.throttle_rate):
            response = api_error(
                429, "rateLimitExceeded", "Rate Limit Exceeded", "Too many requests at once."
            )
            response.headers.append(("Retry-After", str(THROTTLE_RETRY_AFTER)))
            return "throttled", response
        if self._chance(self.settings.error_rate):
            with self._lock:
                status = self._rng.choice(sorted(INJECTED_ERRORS))
            return f"error_{status}", INJECTED_ERRORS[status]()
        return None

    def page_size_limit(self, path: str) -> int | None:
        return self.settings.page_size_limits.get(path)

    def take_token_failure(self) -> int | None:
        with self._lock:
            failures = self.settings.token_failures
            return failures.pop(0) if failures else None

    def shuffled(self, items: list[T]) -> list[T]:
        if not self.settings.shuffle_pages:
            return items
        copy = list(items)
        with self._lock:
            self._rng.shuffle(copy)
        return copy
