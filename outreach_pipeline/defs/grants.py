"""Grants as partitions: every stored grant is a key of the ``outreach_grants`` dynamic
partitions, kept in step with the token store by the ``outreach_grant_partitions`` sensor
(added after ``auth login --grant NAME``, removed after ``auth logout``).

The default grant is the key ``default``. It is there whenever nothing else is stored (and
always in S2S mode, which stores no grant), so a single-grant deployment finds its one
partition before and after its first login, as it found its assets before grants existed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import dagster as dg

from outreach_pipeline.auth import stored_grant_names
from outreach_pipeline.defs.resources import OutreachResource
from outreach_pipeline.settings import DEFAULT_GRANT, Settings

GRANTS_NAME = "outreach_grants"
GRANTS = dg.DynamicPartitionsDefinition(name=GRANTS_NAME)
# Seconds between two looks at the token store: a login shows in the UI within this.
PARTITIONS_TICK_SECONDS = 30


def grant_partition_keys(settings: Settings) -> list[str]:
    """The grants the deployment syncs: the stored ones, or ``default`` when none is stored
    (or in S2S mode, where the app reads without a user's grant)."""
    if settings.s2s is not None:
        return [DEFAULT_GRANT]
    return stored_grant_names(settings) or [DEFAULT_GRANT]


def add_missing(
    instance: dg.DagsterInstance, keys: list[str], present: Sequence[str] | None = None
) -> list[dg.AddDynamicPartitionsRequest]:
    """The request adding those of ``keys`` the instance lacks (none when it has them all);
    ``present``, the instance's keys when the caller has read them already, else read once."""
    if present is None:
        present = instance.get_dynamic_partitions(GRANTS_NAME)
    missing = [k for k in keys if k not in present]
    return [GRANTS.build_add_request(missing)] if missing else []


@dg.sensor(
    name="outreach_grant_partitions",
    minimum_interval_seconds=PARTITIONS_TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def grant_partitions(
    context: dg.SensorEvaluationContext, outreach: OutreachResource
) -> dg.SensorResult:
    """Adds a partition per newly stored grant and removes those of grants logged out. The
    instance's keys are the truth compared with; the cursor records the grants last seen, so
    the tick's log says what changed."""
    wanted = grant_partition_keys(outreach.settings())
    present = context.instance.get_dynamic_partitions(GRANTS_NAME)
    gone = [k for k in present if k not in wanted]
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest]
    requests = [*add_missing(context.instance, wanted, present)]
    if gone:
        requests.append(GRANTS.build_delete_request(gone))
    cursor = json.dumps(wanted)
    if not requests:
        return dg.SensorResult(skip_reason=f"grants unchanged: {', '.join(wanted)}", cursor=cursor)
    before = json.loads(context.cursor) if context.cursor else present
    context.log.info(f"grants were {', '.join(before) or 'none'}; now {', '.join(wanted)}")
    return dg.SensorResult(dynamic_partitions_requests=requests, cursor=cursor)
