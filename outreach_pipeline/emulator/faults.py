"""Switchable misbehaviour, so clients can be tested against what the real API does wrong.

Every random decision comes from one RNG seeded from the emulator's seed, so a test that sets
the same faults against the same request sequence sees the same failures.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
ERROR_STATUSES = (500, 502, 503)


@dataclass
class FaultSettings:
    """What is currently switched on. Shares are probabilities per ``/api`` request."""

    latency: float = 0.0  # seconds added to every /api and /oauth request
    error_rate: float = 0.0  # answered 500, 502 or 503 instead
    drop_rate: float = 0.0  # connection closed without an answer
    truncate_rate: float = 0.0  # full Content-Length sent, body cut short, connection closed
    # stream path -> largest page[size] served; above it a 502, as Outreach does for mailings
    page_size_limits: dict[str, int] = field(default_factory=dict)
    shuffle_pages: bool = False  # records within a page come out of order
    ignore_upper_bound: bool = False  # filter[...]=A..B acts as A..inf
    # statuses (429 or 503) answered by the next token requests, one each, in order
    token_failures: list[int] = field(default_factory=list)


class Faults:
    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
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
                setattr(self.settings, name, value)
            return self.settings

    def reset(self) -> FaultSettings:
        """Everything off, RNG back to its seed."""
        with self._lock:
            self.settings = FaultSettings()
            self._rng = random.Random(self._seed)
            return self.settings

    def snapshot(self) -> dict[str, Any]:
        return dataclasses.asdict(self.settings)

    def _chance(self, share: float) -> bool:
        if share <= 0:
            return False
        with self._lock:
            return self._rng.random() < share

    def should_drop(self) -> bool:
        return self._chance(self.settings.drop_rate)

    def should_truncate(self) -> bool:
        return self._chance(self.settings.truncate_rate)

    def error_status(self) -> int | None:
        if not self._chance(self.settings.error_rate):
            return None
        with self._lock:
            return self._rng.choice(ERROR_STATUSES)

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
