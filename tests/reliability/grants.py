"""A grant for every stream, stored as ``outreach-pipeline auth login`` leaves it, for the
reliability cases that run the real auth (refreshes, rotation) against an in-process emulator."""

from __future__ import annotations

from pathlib import Path

from outreach_emulator import Emulator
from outreach_pipeline.auth import Grant
from outreach_pipeline.catalog import catalog, scopes_for
from tests.auth.auth_support import emulator_env, settings_from, store_issued_grant


def stored_grant_env(emulator: Emulator, folder: Path) -> dict[str, str]:
    """The ``OUTREACH_*`` environment of a grant kept in ``folder`` (landing there too)."""
    env = emulator_env(emulator, folder / "grant.json", "http://127.0.0.1:8976/callback")
    env["OUTREACH_DUCKDB_PATH"] = str(folder / "landing.duckdb")
    store_issued_grant(emulator, settings_from(env), scopes=scopes_for(list(catalog().values())))
    return env


def store_grant_as(emulator: Emulator, env: dict[str, str], grant: str, user_id: int) -> Grant:
    """The grant named ``grant``, of the user ``user_id``, stored beside ``env``'s as
    ``auth login --grant`` leaves it (its landing beside ``env``'s too)."""
    settings = settings_from(env).for_grant(grant)
    scopes = scopes_for(list(catalog().values()))
    return store_issued_grant(emulator, settings, scopes=scopes, user_id=user_id)
