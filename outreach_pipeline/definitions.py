"""The Dagster code location: every Outreach stream as an asset partitioned by grant, its
checks, schedules, the sensor keeping the grant partitions in step with the token store, the
grant alert sensor and the job whose runs record its alerts.

Runs execute in one process: the stream step already fetches in parallel threads sharing one
rate budget and one DuckDB writer, so step subprocesses would only add start-up time.
"""

import dagster as dg

from outreach_pipeline.defs.alerts import AlertsResource
from outreach_pipeline.defs.assets import outreach_streams
from outreach_pipeline.defs.grant_health import grant_health
from outreach_pipeline.defs.grants import grant_partitions
from outreach_pipeline.defs.resources import OutreachResource, duckdb_from_env
from outreach_pipeline.defs.schedules import build_schedules, nightly_job, sweep_job
from outreach_pipeline.defs.sensors import grant_alert_job, grant_alerts

defs = dg.Definitions(
    assets=[outreach_streams, grant_health],
    jobs=[nightly_job, sweep_job, grant_alert_job],
    schedules=build_schedules(),
    sensors=[grant_partitions, grant_alerts],
    executor=dg.in_process_executor,
    resources={
        "outreach": OutreachResource.from_env(),
        "duckdb": duckdb_from_env(),
        "alerts": AlertsResource.from_env(),
    },
)
