"""Shared fixtures: a running Outreach emulator on a free loopback port.

``emulator`` is a small started Emulator (seed 7, 200 prospects, auto-consent); use
``make_emulator(**config)`` for other settings (any ``EmulatorConfig`` field). Both stop their
emulators when the test ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from outreach_emulator import Emulator, EmulatorConfig
from tests.support.postgres import postgres, postgres_url  # noqa: F401  (fixtures for every test)

SMALL_EMULATOR: dict[str, Any] = {"seed": 7, "scale": 200, "auto_consent": True}


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def make(**config: Any) -> Emulator:
        emulator = Emulator(EmulatorConfig(**{**SMALL_EMULATOR, **config})).start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator()
