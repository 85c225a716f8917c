"""The nightly job on the multiprocess executor, for runs started with ``dg.execute_job``: each
step in a process of its own, as a run worker on another host would run it. A module of its own
(not a test module) so the step processes can import it by name."""

from __future__ import annotations

import dagster as dg

from outreach_pipeline.defs.alerts import AlertsResource
from outreach_pipeline.defs.assets import outreach_streams
from outreach_pipeline.defs.grant_health import grant_health
from outreach_pipeline.defs.resources import OutreachResource, duckdb_from_env
from outreach_pipeline.defs.schedules import nightly_job


def multiprocess_nightly() -> dg.JobDefinition:
    definitions = dg.Definitions(
        assets=[outreach_streams, grant_health],
        jobs=[nightly_job],
        executor=dg.multiprocess_executor,
        resources={
            "outreach": OutreachResource.from_env(),
            "duckdb": duckdb_from_env(),
            "alerts": AlertsResource.from_env(),
        },
    )
    return definitions.resolve_job_def(nightly_job.name)
