"""Nightly sync of every stream on by default, and the weekly delete sweep, for every grant: one
run per healthy grant (a partition of ``outreach_grants``); a grant needing reauthorization is
skipped, named in the tick's log with the reason, and never holds back the others. Streams off
by default (they need an administrator's grant) have assets too, materialized by hand or by a
job of one's own.

Both fire in ``OUTREACH_SCHEDULE_TIMEZONE`` (an IANA name, default UTC), read when the code
location loads.
"""

from __future__ import annotations

import dagster as dg

from outreach_pipeline.auth import login_hint
from outreach_pipeline.catalog import catalog
from outreach_pipeline.defs.assets import GROUP, outreach_streams
from outreach_pipeline.defs.grants import grant_partition_keys
from outreach_pipeline.defs.keys import asset_key
from outreach_pipeline.defs.resources import OutreachResource
from outreach_pipeline.settings import load_settings

NIGHTLY_CRON = "0 2 * * *"
WEEKLY_SWEEP_CRON = "0 4 * * 0"


def schedule_timezone() -> str:
    """``OUTREACH_SCHEDULE_TIMEZONE``, checked alone: the schedules need it to load, while
    the other settings are checked by the runs that use them."""
    return load_settings(dotenv=None, only=["schedule_timezone"]).schedule_timezone


ON_BY_DEFAULT = dg.AssetSelection.groups(GROUP) - dg.AssetSelection.assets(
    *(asset_key(s) for s in catalog().values() if not s.default)
)

nightly_job = dg.define_asset_job(
    "outreach_nightly",
    selection=ON_BY_DEFAULT,
    description="Bring every Outreach stream on by default up to date.",
)

sweep_job = dg.define_asset_job(
    "outreach_delete_sweep",
    selection=ON_BY_DEFAULT,
    description="Sync every stream on by default and list all ids to mark records deleted in "
    "Outreach.",
    config=dg.RunConfig(ops={outreach_streams.op.name: {"config": {"sweep_deletes": True}}}),
)


def _grant_gated(
    name: str, job: dg.UnresolvedAssetJobDefinition, cron: str, timezone: str
) -> dg.ScheduleDefinition:
    """A schedule of ``job`` asking for a run per grant, except those needing reauthorization:
    skipped, saying which and why."""

    @dg.schedule(
        name=name,
        job=job,
        cron_schedule=cron,
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def gated(
        context: dg.ScheduleEvaluationContext, outreach: OutreachResource
    ) -> list[dg.RunRequest] | dg.SkipReason:
        requests, skipped = [], []
        for grant in grant_partition_keys(outreach.settings()):
            health = outreach.assess_stored_grant(grant)
            if health.needs_reauthorization:
                skipped.append(
                    f"The Outreach grant {grant} needs reauthorization ({health.reason}): "
                    f"{login_hint(grant)}."
                )
            else:
                requests.append(dg.RunRequest(run_key=grant, partition_key=grant))
        for reason in skipped:
            context.log.warning(f"skipped: {reason}")
        return requests or dg.SkipReason(" ".join(skipped))

    return gated


def build_schedules() -> list[dg.ScheduleDefinition]:
    timezone = schedule_timezone()
    return [
        _grant_gated("outreach_nightly_schedule", nightly_job, NIGHTLY_CRON, timezone),
        _grant_gated("outreach_weekly_delete_sweep", sweep_job, WEEKLY_SWEEP_CRON, timezone),
    ]
