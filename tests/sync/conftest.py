"""Fixtures for sync tests: a landing path and a one-call sync against an emulator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from outreach_emulator import Emulator, bearer_auth
from outreach_pipeline.client import RateBudget
from outreach_pipeline.retry import API_REQUESTS
from outreach_pipeline.sync import StreamResult, SyncOptions, run_sync
from tests.sync.support import settings_for

# Retries without long pauses, so fault tests stay fast.
QUICK_RETRY = replace(API_REQUESTS, attempts=8, initial_wait=0.01, max_wait=0.05)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "landing.duckdb"


@pytest.fixture
def sync(db_path: Path) -> Callable[..., list[StreamResult]]:
    """``sync(emu, streams=None, **run_sync_kwargs)`` into ``db_path``; a fresh budget each."""

    def run(emu: Emulator, streams: Any = None, **kwargs: Any) -> list[StreamResult]:
        # A sync reads up to the API's time less a second (SyncOptions.window_margin):
        # let that time pass since whatever the test just changed, as it would in life.
        emu.clock.advance(2)
        kwargs.setdefault("auth", bearer_auth(emu))
        kwargs.setdefault("budget", RateBudget())
        kwargs.setdefault("retry", QUICK_RETRY)
        kwargs.setdefault("options", SyncOptions())
        return run_sync(settings_for(emu, db_path), streams, **kwargs)

    return run
