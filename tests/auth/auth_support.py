"""Helpers the auth tests share: settings pointing at an emulator, grants put in the store."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from outreach_emulator import Emulator
from outreach_pipeline.auth.grant import Grant, TokenResponse
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.settings import CredentialKind, Secret, Settings, load_settings

DEV_CLIENT_ID = "emulator-dev-client"
DEV_CLIENT_SECRET = "dev secret+&=/%?#;é"
PASTE_REDIRECT_URI = "https://pipeline.example.com/outreach/callback"
SCOPES = ["prospects.read", "users.read"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def emulator_env(emulator: Emulator, store: Path | str, redirect_uri: str) -> dict[str, str]:
    """The ``OUTREACH_*`` variables that point the pipeline at ``emulator``; ``store`` is the
    token store's file or PostgreSQL URL."""
    env = {
        "OUTREACH_API_URL": emulator.api_url,
        "OUTREACH_OAUTH_URL": emulator.oauth_url,
        "OUTREACH_REDIRECT_URI": redirect_uri,
        "OUTREACH_TOKEN_STORE": str(store),
        "OUTREACH_CLIENT_ID": emulator.config.client_id,
        "OUTREACH_CLIENT_SECRET": emulator.config.client_secret,
    }
    if emulator.config.dev_client_id and emulator.config.dev_client_secret:
        env["OUTREACH_DEV_CLIENT_ID"] = emulator.config.dev_client_id
        env["OUTREACH_DEV_CLIENT_SECRET"] = emulator.config.dev_client_secret
    return env


def settings_from(env: dict[str, str]) -> Settings:
    return load_settings(env=env, dotenv=None)


def store_issued_grant(
    emulator: Emulator,
    settings: Settings,
    kind: CredentialKind = "production",
    scopes: list[str] | None = None,
    user_id: int = 1,
    org: str | None = None,
) -> Grant:
    """A grant of the user ``user_id`` of ``org`` (default: the emulator's default org) issued
    by the emulator without the browser, saved as ``auth login`` would."""
    body = emulator.grants.issue(scopes or SCOPES, user_id=user_id, kind=kind, org=org)
    response = TokenResponse(
        access_token=Secret(body["access_token"]),
        refresh_token=Secret(body["refresh_token"]),
        expires_in=float(body["expires_in"]),
        scopes=tuple(body["scope"].split()),
    )
    grant = Grant.from_token_response(response, kind, time.time())
    open_token_store(settings).save(grant)
    return grant
