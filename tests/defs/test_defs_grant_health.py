"""``outreach/grant_health``: the stored grant's state as metadata and a check."""

from __future__ import annotations

from typing import Any

import dagster as dg

from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.defs.grant_health import GRANT_USABLE, grant_health
from outreach_pipeline.settings import DEFAULT_GRANT


def materialize_health(resources: dict[str, Any], instance: dg.DagsterInstance) -> tuple:
    result = dg.materialize(
        [grant_health], resources=resources, instance=instance, partition_key=DEFAULT_GRANT
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == GRANT_USABLE
    return {k: v.value for k, v in event.materialization.metadata.items()}, check


def test_a_working_grant_shows_its_scopes_and_expiries(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    metadata, check = materialize_health(resources, instance)

    assert metadata["needs_reauthorization"] is False
    assert metadata["credential_kind"] == "production"
    assert "prospects.read" in metadata["scopes"]
    assert metadata["refresh_token_expires_at"] > metadata["granted_at"]
    assert check.passed
    serialized = str(metadata)
    grant = open_token_store(resources["outreach"].settings()).load()
    assert grant is not None
    assert grant.refresh_token.reveal() not in serialized
    assert grant.access_token.reveal() not in serialized


def test_a_missing_grant_needs_reauthorization(
    resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    open_token_store(resources["outreach"].settings()).delete()

    metadata, check = materialize_health(resources, instance)

    assert metadata["needs_reauthorization"] is True
    assert metadata["reason"] == "no grant is stored"
    assert "outreach-pipeline auth login" in metadata["action"]
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
