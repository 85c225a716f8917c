"""Fixtures of the auth tests: an emulator with both credential pairs and a loopback redirect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from outreach_emulator import Emulator
from outreach_pipeline.settings import Settings
from tests.auth.auth_support import (
    DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
    PASTE_REDIRECT_URI,
    emulator_env,
    free_port,
    settings_from,
)


@pytest.fixture
def redirect_uri() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


@pytest.fixture
def oauth_emulator(make_emulator: Callable[..., Emulator], redirect_uri: str) -> Emulator:
    return make_emulator(
        redirect_uris=(redirect_uri, PASTE_REDIRECT_URI),
        dev_client_id=DEV_CLIENT_ID,
        dev_client_secret=DEV_CLIENT_SECRET,
        rate_limit=10**9,
    )


@pytest.fixture
def env(oauth_emulator: Emulator, tmp_path: Path, redirect_uri: str) -> dict[str, str]:
    return emulator_env(oauth_emulator, tmp_path / "data" / "grant.json", redirect_uri)


@pytest.fixture(params=["file", "postgres"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """``OUTREACH_TOKEN_STORE`` for each backend: a JSON file, or a new PostgreSQL database.
    Tests that take it run once per backend: the stores behave alike."""
    if request.param == "file":
        return tmp_path / "data" / "grant.json"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return settings_from(env)
