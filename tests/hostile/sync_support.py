"""Syncing ``users`` from a :class:`HostileServer` with the production auth (a stored grant,
refreshed on 401 at the server's ``/oauth/token``) into a real DuckDB file."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb
from pydantic import SecretStr

from outreach_pipeline.auth import build_auth
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.catalog import stream
from outreach_pipeline.client import JsonApiClient, PageLimits, RateBudget
from outreach_pipeline.landing import Database, StreamState, ensure_schema, save_state
from outreach_pipeline.retry import RetryPolicy
from outreach_pipeline.settings import Secret, Settings
from outreach_pipeline.sync import StreamResult, sync_stream
from outreach_pipeline.sync.options import SyncOptions
from tests.hostile.server import HostileServer, Reply, Seen, json_reply, resource
from tests.sync.conftest import QUICK_RETRY

USERS = stream("users")
TOKEN = "hostile-test-access-token-5f2c9e"
NEW_TOKEN = "hostile-test-new-access-token-a81d"
REFRESH = "hostile-test-refresh-token-3b7e"


def user(record_id: int, updated_at: str = "2025-01-01T00:00:00.000Z") -> dict[str, Any]:
    return resource("user", record_id, updatedAt=updated_at, firstName=f"user {record_id}")


def token_reply(seen: Seen) -> Reply | None:
    """The answer to a refresh at ``/oauth/token`` (None for any other request)."""
    if not seen.path.startswith("/oauth/token"):
        return None
    return json_reply(
        {
            "access_token": NEW_TOKEN,
            "token_type": "bearer",
            "expires_in": 7200,
            "refresh_token": "hostile-test-next-refresh-9d0f",
            "scope": "users.read",
            "created_at": int(time.time()),
        },
        content_type="application/json",
    )


def settings_for(server: HostileServer, tmp_path: Path) -> Settings:
    return Settings(
        api_url=f"{server.url}/api/v2",
        oauth_url=f"{server.url}/oauth",
        duckdb_path=tmp_path / "landing.duckdb",
        token_store_path=tmp_path / "tokens.json",
        client_id="client-id",
        client_secret=SecretStr("client-secret-7e3a91b2"),
    )


def store_grant(settings: Settings, expires_in: float = 7200) -> None:
    """A grant whose access token expires in ``expires_in`` seconds (negative: has expired)."""
    now = time.time()
    grant = Grant(
        access_token=Secret(TOKEN),
        access_expires_at=now + expires_in,
        refresh_token=Secret(REFRESH),
        scopes=("users.read",),
        credential_kind="production",
        granted_at=now,
    )
    open_token_store(settings).save(grant)


def stored_grant(settings: Settings) -> Grant:
    grant = open_token_store(settings).load()
    assert grant is not None
    return grant


def sync_users(
    settings: Settings,
    *,
    options: SyncOptions | None = None,
    limits: PageLimits | None = None,
    state: StreamState | None = None,
    retry: RetryPolicy = QUICK_RETRY,
    decoding: threading.Semaphore | None = None,
    sweep_deletes: bool = False,
) -> StreamResult:
    """One run of ``users`` (with ``state`` saved first, if given)."""
    database = Database(settings.duckdb_path)
    client = JsonApiClient(
        settings.api_url, build_auth(settings), RateBudget(), retry=retry, limits=limits
    )
    try:
        with database.transaction() as con:
            ensure_schema(con, [USERS])
            if state is not None:
                save_state(con, USERS.path, state)
        return sync_stream(
            USERS,
            client,
            database,
            options=options,
            decoding=decoding,
            sweep_deletes=sweep_deletes,
        )
    finally:
        client.close()
        database.close()


def query(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def landed_ids(settings: Settings) -> list[int]:
    return [row[0] for row in query(settings, "SELECT id FROM outreach.users ORDER BY id")]


def run_rows(settings: Settings) -> list[tuple[Any, ...]]:
    return query(settings, "SELECT stream, error FROM outreach.sync_runs ORDER BY started_at")
