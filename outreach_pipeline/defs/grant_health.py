"""``outreach/grant_health``: each OAuth grant's state in the UI, read from the token store.

It is partitioned by grant like the streams, rather than one materialization listing every
grant: each grant then has its own page (partition) with its own history, check result and
data version, the sensor compares and refreshes each grant's page alone (one grant's logout
never rewrites another's), and a grant's nightly run records that grant's health beside its
sync.

Materializing it spends no token: it reads who authorized, the scopes, the expiries and
whether a person has to log in again. Its check fails while the grant needs reauthorization
and warns when an expiry is near.

The asset page shows its latest materialization and check first, so they must follow the grant:
each materialization's data version is ``state_version`` of the health it recorded, and the
alert sensor (sensors.py) launches ``outreach_grant_health`` whenever the grant's current
``state_version`` differs from the one shown (after a logout, a refused refresh, a new login,
an expiry coming near), not only the nightly job.
"""

import hashlib
import json
from dataclasses import asdict
from datetime import UTC, datetime

import dagster as dg
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from outreach_pipeline.auth import GrantHealth, login_hint
from outreach_pipeline.defs.assets import GROUP
from outreach_pipeline.defs.grants import GRANTS
from outreach_pipeline.defs.resources import OutreachResource

GRANT_HEALTH_KEY = dg.AssetKey(["outreach", "grant_health"])
GRANT_USABLE = "grant_usable"
GRANT_HEALTH_JOB = "outreach_grant_health"

grant_health_job = dg.define_asset_job(
    GRANT_HEALTH_JOB,
    selection=dg.AssetSelection.assets(GRANT_HEALTH_KEY),
    description="Record the grant's health on outreach/grant_health; launched by "
    "outreach_grant_alerts whenever it changes.",
    tags={"outreach/kind": "grant_health"},
)


def state_version(health: GrantHealth) -> str:
    """A digest of what the asset page shows of ``health``, leaving out what only the clock
    moves (the warnings' "in 11h"): the asset's data version."""
    state = {**asdict(health), "warnings": len(health.warnings)}
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]


def shown_state(instance: dg.DagsterInstance, grant: str) -> tuple[str | None, int | None]:
    """The state version and storage id of the materialization the grant's page shows (its
    partition's latest); Nones before the first."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(GRANT_HEALTH_KEY, asset_partitions=[grant]), limit=1
    ).records
    if not records:
        return None, None
    tags = records[0].asset_materialization.tags if records[0].asset_materialization else {}
    return (tags or {}).get(DATA_VERSION_TAG), records[0].storage_id


def _when(epoch: float | None) -> dg.MetadataValue:
    return dg.MetadataValue.timestamp(epoch) if epoch is not None else dg.MetadataValue.null()


def grant_usable(health: GrantHealth) -> dg.AssetCheckResult:
    """Fails while a person is needed; warns while an expiry is near."""
    severity = (
        dg.AssetCheckSeverity.ERROR if health.needs_reauthorization else dg.AssetCheckSeverity.WARN
    )
    return dg.AssetCheckResult(
        check_name=GRANT_USABLE,
        passed=not health.needs_reauthorization and not health.warnings,
        severity=severity,
        description=health.reason or "; ".join(health.warnings) or None,
    )


@dg.asset(
    key=GRANT_HEALTH_KEY,
    group_name=GROUP,
    kinds={"outreach"},
    partitions_def=GRANTS,
    check_specs=[
        dg.AssetCheckSpec(
            GRANT_USABLE,
            asset=GRANT_HEALTH_KEY,
            description="The grant works without a person and no expiry is near.",
        )
    ],
)
def grant_health(
    context: dg.AssetExecutionContext, outreach: OutreachResource
) -> dg.MaterializeResult:
    """Who authorized the Outreach app for the partition's grant, with which scopes, until
    when, and whether a person has to run `outreach-pipeline auth login` again."""
    name = context.partition_key
    health = outreach.assess_stored_grant(name)
    grant = outreach.stored_grant(name)
    return dg.MaterializeResult(
        metadata={
            "grant": name,
            "needs_reauthorization": health.needs_reauthorization,
            "reason": health.reason,
            "action": login_hint(name) if health.needs_reauthorization else None,
            "since": _when(health.since),
            "warnings": dg.MetadataValue.json(list(health.warnings)),
            "user_email": grant.user_email if grant else None,
            "user_id": grant.user_id if grant else None,
            "scopes": dg.MetadataValue.json(list(grant.scopes) if grant else []),
            "credential_kind": health.credential_kind,
            "granted_at": _when(health.granted_at),
            "access_token_expires_at": _when(health.access_expires_at),
            "refresh_token_expires_at": _when(health.refresh_token_expires_at),
            "development_grant_expires_at": _when(health.development_expires_at),
            "checked_at": dg.MetadataValue.timestamp(datetime.now(UTC)),
        },
        check_results=[grant_usable(health)],
        data_version=dg.DataVersion(state_version(health)),
    )
