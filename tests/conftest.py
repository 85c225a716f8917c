"""Shared fixtures: a running Outreach emulator on a free loopback port.

``emulator`` is a small started Emulator (seed 7, 200 prospects, auto-consent); use
``make_emulator(**config)`` for other settings (any ``EmulatorConfig`` field). Both stop their
emulators when the test ends.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from outreach_emulator import Emulator, EmulatorConfig
from tests.support.postgres import postgres, postgres_url  # noqa: F401  (fixtures for every test)

SMALL_EMULATOR: dict[str, Any] = {"seed": 7, "scale": 200, "auto_consent": True}

# The default selection (pyproject's addopts); another -m means slow, soak or hand-picked runs.
DEFAULT_MARKS = "not slow and not soak"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for ``-n auto`` (pyproject's addopts): one more than the cores for the default
    run, whose tests mostly wait on sockets, sleeps and child processes; none (run in this
    process) under ``-s``, whose printed figures workers would swallow, or for another ``-m``:
    slow and soak tests measure throughput and timing and should not share the machine.
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` or an explicit ``-n N`` still decide."""
    if "PYTEST_XDIST_AUTO_NUM_WORKERS" in os.environ:
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    if config.option.capture == "no" or config.option.markexpr != DEFAULT_MARKS:
        return 0
    return (os.cpu_count() or 1) + 1


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
