"""Dagster resources: configuration only. The work is done by the plain-Python layers.

``OutreachResource`` holds where Outreach is and who may call it (secrets arrive as
``EnvVar``, resolved at run time and never shown in the UI); ``get_auth`` hands out the
refreshing ``httpx.Auth`` of the auth layer, built once per resource instance, and ``sync``
runs the sync engine with it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import dagster as dg
import httpx
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from outreach_pipeline.auth import (
    Grant,
    GrantHealth,
    TokenStoreError,
    assess_stored_grant,
    build_auth,
    open_token_store,
)
from outreach_pipeline.catalog import Stream
from outreach_pipeline.client import RateBudget
from outreach_pipeline.settings import (
    DEFAULT_API_URL,
    DEFAULT_DUCKDB_PATH,
    DEFAULT_OAUTH_URL,
    DEFAULT_REDIRECT_URI,
    DEFAULT_TOKEN_STORE,
    Settings,
    load_settings,
)
from outreach_pipeline.sync import StreamResult, SyncOptions, SyncProgress, run_sync


class OutreachResource(dg.ConfigurableResource):
    """The Outreach API and the OAuth grant the pipeline reads it with."""

    client_id: str | None = Field(
        default=None, description="The OAuth app's client id (OUTREACH_CLIENT_ID)."
    )
    client_secret: str | None = Field(
        default=None, description="The OAuth app's client secret (OUTREACH_CLIENT_SECRET)."
    )
    client_kind: str = Field(
        default="production",
        description="Whether the app credentials are `production` or `development` ones.",
    )
    api_url: str = Field(default=DEFAULT_API_URL, description="REST base URL (…/api/v2).")
    oauth_url: str = Field(default=DEFAULT_OAUTH_URL, description="OAuth base URL (…/oauth).")
    redirect_uri: str = Field(
        default=DEFAULT_REDIRECT_URI, description="The redirect URI registered for the app."
    )
    dev_client_id: str | None = Field(
        default=None,
        description="A development credential pair's client id (OUTREACH_DEV_CLIENT_ID), "
        "used for grants authorized with it.",
    )
    dev_client_secret: str | None = Field(
        default=None, description="The development pair's secret (OUTREACH_DEV_CLIENT_SECRET)."
    )
    s2s_guid: str | None = Field(
        default=None,
        description="S2S mode: the app's S2S GUID (OUTREACH_S2S_GUID); set, with the install "
        "id and private key path, to read as the app instead of a user's grant.",
    )
    s2s_install_id: str | None = Field(
        default=None, description="S2S mode: the app install id (OUTREACH_S2S_INSTALL_ID)."
    )
    s2s_private_key_path: str | None = Field(
        default=None,
        description="S2S mode: path of the app's RSA private key (OUTREACH_S2S_PRIVATE_KEY_PATH).",
    )
    token_store_path: str = Field(
        default=DEFAULT_TOKEN_STORE, description="Where the grant (refresh token) is kept."
    )
    token_encryption_key: str | None = Field(
        default=None, description="Key encrypting the token store at rest, when set."
    )
    max_page_size: int = Field(
        default=1000,
        description="Upper bound on the page size asked for; streams with smaller catalog "
        "page sizes keep theirs.",
    )
    fetch_concurrency: int = Field(default=4, description="Streams fetched at once within one run.")
    rate_limit_reserve: int = Field(
        default=2,
        description="Requests of the user's hourly budget this pipeline never spends: the "
        "share left for other tools using the same grant.",
    )

    _auth: httpx.Auth | None = PrivateAttr(default=None)

    def settings(self, duckdb_path: str | Path = DEFAULT_DUCKDB_PATH) -> Settings:
        """Validated settings, as the command line would read them from the environment."""
        env = {
            "OUTREACH_CLIENT_ID": self.client_id or "",
            "OUTREACH_CLIENT_SECRET": self.client_secret or "",
            "OUTREACH_CLIENT_KIND": self.client_kind,
            "OUTREACH_DEV_CLIENT_ID": self.dev_client_id or "",
            "OUTREACH_DEV_CLIENT_SECRET": self.dev_client_secret or "",
            "OUTREACH_S2S_GUID": self.s2s_guid or "",
            "OUTREACH_S2S_INSTALL_ID": self.s2s_install_id or "",
            "OUTREACH_S2S_PRIVATE_KEY_PATH": self.s2s_private_key_path or "",
            "OUTREACH_API_URL": self.api_url,
            "OUTREACH_OAUTH_URL": self.oauth_url,
            "OUTREACH_REDIRECT_URI": self.redirect_uri,
            "OUTREACH_TOKEN_STORE": self.token_store_path,
            "OUTREACH_TOKEN_ENCRYPTION_KEY": self.token_encryption_key or "",
            "OUTREACH_DUCKDB_PATH": str(duckdb_path),
        }
        return load_settings(env=env, dotenv=None)

    def get_auth(self) -> httpx.Auth:
        """The grant's refreshing auth (built on first use, then reused by this instance)."""
        if self._auth is None:
            self._auth = build_auth(self.settings())
        return self._auth

    def assess_stored_grant(self) -> GrantHealth:
        """The stored grant's health, read from the token store without spending a token.

        In S2S mode no grant is used, so none is needed: healthy, nothing stored."""
        settings = self.settings()
        if settings.s2s is not None:
            return GrantHealth(stored=False, needs_reauthorization=False)
        return assess_stored_grant(settings)

    def stored_grant(self) -> Grant | None:
        """The stored grant (who authorized, scopes), None when absent or unreadable."""
        try:
            return open_token_store(self.settings()).load()
        except TokenStoreError:
            return None

    def sync(
        self,
        streams: Sequence[Stream],
        duckdb_path: str,
        *,
        full_refresh: bool = False,
        sweep_deletes: bool = False,
        progress: SyncProgress | None = None,
    ) -> list[StreamResult]:
        """Sync ``streams`` into ``duckdb_path``, fetching up to ``fetch_concurrency`` at once;
        ``progress`` is told how it goes. A run termination reaching the step stops the sync
        in seconds (see :func:`run_sync`): each stream's ``sync_runs`` row says interrupted."""
        return run_sync(
            self.settings(duckdb_path),
            [replace(s, page_size=min(s.page_size, self.max_page_size)) for s in streams],
            full_refresh=full_refresh,
            sweep_deletes=sweep_deletes,
            auth=self.get_auth(),
            options=SyncOptions(concurrency=self.fetch_concurrency),
            budget=RateBudget(reserve=self.rate_limit_reserve),
            progress=progress,
        )


def optional_env_var(name: str) -> dg.EnvVar | None:
    """``EnvVar(name)`` when the variable is set (its value is read at run time), else None."""
    return dg.EnvVar(name) if os.environ.get(name) else None


def outreach_from_env() -> OutreachResource:
    """The resource as configured by the ``OUTREACH_*`` variables (or ``.env``).

    Secrets stay ``EnvVar``s; non-secret settings fall back to the command line's defaults.
    The OAuth pair is required unless S2S mode is configured (then it is optional)."""
    s2s_only = bool(os.environ.get("OUTREACH_S2S_GUID")) and not os.environ.get(
        "OUTREACH_CLIENT_ID"
    )
    return OutreachResource(
        client_id=None if s2s_only else dg.EnvVar("OUTREACH_CLIENT_ID"),
        client_secret=None if s2s_only else dg.EnvVar("OUTREACH_CLIENT_SECRET"),
        dev_client_id=optional_env_var("OUTREACH_DEV_CLIENT_ID"),
        dev_client_secret=optional_env_var("OUTREACH_DEV_CLIENT_SECRET"),
        s2s_guid=optional_env_var("OUTREACH_S2S_GUID"),
        s2s_install_id=optional_env_var("OUTREACH_S2S_INSTALL_ID"),
        s2s_private_key_path=os.environ.get("OUTREACH_S2S_PRIVATE_KEY_PATH") or None,
        client_kind=os.environ.get("OUTREACH_CLIENT_KIND") or "production",
        api_url=os.environ.get("OUTREACH_API_URL") or DEFAULT_API_URL,
        oauth_url=os.environ.get("OUTREACH_OAUTH_URL") or DEFAULT_OAUTH_URL,
        redirect_uri=os.environ.get("OUTREACH_REDIRECT_URI") or DEFAULT_REDIRECT_URI,
        token_store_path=os.environ.get("OUTREACH_TOKEN_STORE") or DEFAULT_TOKEN_STORE,
        token_encryption_key=optional_env_var("OUTREACH_TOKEN_ENCRYPTION_KEY"),
    )


def duckdb_from_env() -> DuckDBResource:
    return DuckDBResource(database=os.environ.get("OUTREACH_DUCKDB_PATH") or DEFAULT_DUCKDB_PATH)
