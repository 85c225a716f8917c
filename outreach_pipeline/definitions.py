"""The Dagster code location: every Outreach stream as an asset, its checks and schedules."""

import dagster as dg

from outreach_pipeline.defs.assets import outreach_streams
from outreach_pipeline.defs.grant_health import grant_health
from outreach_pipeline.defs.resources import duckdb_from_env, outreach_from_env
from outreach_pipeline.defs.schedules import build_schedules, nightly_job, sweep_job

defs = dg.Definitions(
    assets=[outreach_streams, grant_health],
    jobs=[nightly_job, sweep_job],
    schedules=build_schedules(),
    resources={"outreach": outreach_from_env(), "duckdb": duckdb_from_env()},
)
