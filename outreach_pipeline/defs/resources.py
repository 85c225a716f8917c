"""Dagster resources: configuration only. The work is done by the plain-Python layers.

``OutreachResource`` holds where Outreach is and who may call it: the ``OUTREACH_*`` settings
(see :class:`SettingsResource`; from the environment they arrive as ``EnvVar``, resolved at
run time and never shown in the UI). Each method takes the grant it is for (a partition key of
``outreach_grants``): ``sync`` runs the sync engine on ``settings.for_grant(grant)``, so the
grant's run writes its own DuckDB file, refreshes through its own token file and lock, and
spends its own user's rate budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Self

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

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
    Settings,
    environment_variables,
    load_settings,
    settings_from,
    variable,
)
from outreach_pipeline.sync import StreamResult, SyncOptions, SyncProgress, run_sync


class SettingsResource(dg.ConfigurableResource):
    """A resource configured by ``OUTREACH_*`` variables, validated as :class:`Settings` when
    used: a bad setting fails the run that needs it, naming the variable, not the loading of
    the code location."""

    variables: dict[str, str] = Field(
        default_factory=dict,
        description="`OUTREACH_*` settings (the README's configuration table lists them). "
        "From the environment they are references to its variables, read in the run's process.",
    )

    def settings(self) -> Settings:
        """Validated settings, as the command line would read them from the environment."""
        return settings_from(self.variables)

    @classmethod
    def from_env(cls) -> Self:
        """The resource as configured by the ``OUTREACH_*`` variables set in the environment
        (``dagster dev`` loads ``.env`` into it), each held as its ``EnvVar``: no value, a
        secret least of all, is in run config or the UI."""
        return cls(variables={name: dg.EnvVar(name) for name in environment_variables()})


class OutreachResource(SettingsResource):
    """The Outreach API and the OAuth grant the pipeline reads it with."""

    max_page_size: int = Field(
        default=1000,
        description="Upper bound on the page size asked for; streams with smaller catalog "
        "page sizes keep theirs.",
    )
    fetch_concurrency: int = Field(
        default=SyncOptions().concurrency, description="Streams fetched at once within one run."
    )
    rate_limit_reserve: int = Field(
        default=2,
        description="Requests of the user's hourly budget this pipeline never spends: the "
        "share left for other tools using the same grant.",
    )

    def assess_stored_grant(self, grant: str) -> GrantHealth:
        """The stored grant's health, read from the token store without spending a token.

        In S2S mode no grant is used, so none is needed: healthy, nothing stored."""
        settings = self.settings().for_grant(grant)
        if settings.s2s is not None:
            return GrantHealth(stored=False, needs_reauthorization=False)
        return assess_stored_grant(settings)

    def stored_grant(self, grant: str) -> Grant | None:
        """The stored grant (who authorized, scopes), None when absent or unreadable."""
        try:
            return open_token_store(self.settings().for_grant(grant)).load()
        except TokenStoreError:
            return None

    def settings_for(self, duckdb_path: str, grant: str) -> Settings:
        """The settings of ``grant``, beside the database the Dagster DuckDB resource names
        (its ``grant_duckdb_path`` is that database for the default grant)."""
        variables = {**self.variables, variable("duckdb_path"): duckdb_path}
        return settings_from(variables).for_grant(grant)

    def sync(
        self,
        streams: Sequence[Stream],
        duckdb_path: str,
        *,
        grant: str,
        full_refresh: bool = False,
        sweep_deletes: bool = False,
        progress: SyncProgress | None = None,
    ) -> list[StreamResult]:
        """Sync ``streams`` of ``grant`` into its database beside ``duckdb_path``, fetching up
        to ``fetch_concurrency`` at once; ``progress`` is told how it goes. A run termination
        reaching the step stops the sync in seconds (see :func:`run_sync`): each stream's
        ``sync_runs`` row says interrupted."""
        settings = self.settings_for(duckdb_path, grant)
        return run_sync(
            settings,
            [replace(s, page_size=min(s.page_size, self.max_page_size)) for s in streams],
            full_refresh=full_refresh,
            sweep_deletes=sweep_deletes,
            auth=build_auth(settings),
            options=SyncOptions(concurrency=self.fetch_concurrency),
            budget=RateBudget(reserve=self.rate_limit_reserve),
            progress=progress,
        )


def duckdb_from_env() -> DuckDBResource:
    """The database ``OUTREACH_DUCKDB_PATH`` names, read when the code location loads."""
    path = load_settings(dotenv=None, only=["duckdb_path"]).duckdb_path
    return DuckDBResource(database=str(path))
