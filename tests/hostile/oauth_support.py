"""Helpers of the hostile OAuth tests: a grant in a store, settings and a CLI environment
pointing at a :class:`HostileServer` as token endpoint (and API), token answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.token_store import FileTokenStore
from outreach_pipeline.settings import Secret, Settings, load_settings
from tests.hostile.server import Reply, Seen, json_reply

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "hostile-client-id"
CLIENT_SECRET = "hostile-client-secret-value"
# Long and random-looking, so that the redaction of remembered secrets applies as for real ones.
REFRESH_TOKEN = "stored-refresh-token-5f1c9a7e2b"
ACCESS_TOKEN = "stored-access-token-0d3e8b6a41"
PASTE_REDIRECT_URI = "https://pipeline.example.com/outreach/callback"


def environment(server_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """``OUTREACH_*`` variables with the token endpoint and the API at ``server_url``."""
    return {
        "OUTREACH_API_URL": f"{server_url}/api/v2",
        "OUTREACH_OAUTH_URL": f"{server_url}/oauth",
        "OUTREACH_REDIRECT_URI": PASTE_REDIRECT_URI,
        "OUTREACH_CLIENT_ID": CLIENT_ID,
        "OUTREACH_CLIENT_SECRET": CLIENT_SECRET,
        "OUTREACH_TOKEN_STORE": str(workdir / "grant.json"),
        "OUTREACH_DUCKDB_PATH": str(workdir / "landing.duckdb"),
        **extra,
    }


def settings_for(env: dict[str, str]) -> Settings:
    return load_settings(env=env, dotenv=None)


def stored_grant(env: dict[str, str], expired: bool = True, **changes: Any) -> Grant:
    """Put a grant in the store of ``env``; ``expired``: its access token must be refreshed
    before the first request."""
    now = time.time()
    fields: dict[str, Any] = {
        "access_token": Secret(ACCESS_TOKEN),
        "access_expires_at": now - 60 if expired else now + 7200,
        "refresh_token": Secret(REFRESH_TOKEN),
        "scopes": ("prospects.read", "accounts.read"),
        "credential_kind": "production",
        "granted_at": now - 7200,
    }
    grant = Grant(**{**fields, **changes})
    FileTokenStore(Path(env["OUTREACH_TOKEN_STORE"])).save(grant)
    return grant


def token_answer(**fields: Any) -> Reply:
    """A 200 token answer: the usual fields, overridden (a value of ``...`` drops the field)."""
    document = {
        "access_token": "new-access-token-7c2d9e",
        "token_type": "bearer",
        "expires_in": 7200,
        "refresh_token": "new-refresh-token-3a8f1b",
        "scope": "prospects.read accounts.read",
        "created_at": int(time.time()),
    }
    document.update(fields)
    return json_reply(
        {k: v for k, v in document.items() if v is not ...}, content_type="application/json"
    )


def with_consent_page(answer: Callable[[Seen], Reply]) -> Callable[[Seen], Reply]:
    """``answer`` behind an authorize page that answers 200: ``auth login`` checks that page
    before it waits for a redirect, and these servers are hostile at the token endpoint."""

    def answer_or_consent(seen: Seen) -> Reply:
        if seen.path.endswith("/authorize"):
            return Reply(200, b"<html>consent</html>", content_type="text/html")
        return answer(seen)

    return answer_or_consent


def cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``outreach-pipeline <args>`` in a child process with ``env`` (and no ``.env`` file)."""
    workdir = Path(env["OUTREACH_TOKEN_STORE"]).parent
    return subprocess.run(
        [sys.executable, "-m", "outreach_pipeline.cli", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def sync_runs(env: dict[str, str]) -> list[tuple[str, str | None, int]]:
    """(stream, error, requests) of every ``outreach.sync_runs`` row."""
    with duckdb.connect(env["OUTREACH_DUCKDB_PATH"], read_only=True) as con:
        rows = con.execute(
            "SELECT stream, error, requests FROM outreach.sync_runs ORDER BY stream"
        ).fetchall()
    return [(str(s), e, int(r)) for s, e, r in rows]


def store_document(env: dict[str, str]) -> dict[str, Any]:
    return dict(json.loads(Path(env["OUTREACH_TOKEN_STORE"]).read_text()))
