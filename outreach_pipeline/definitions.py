"""The Dagster code location: every Outreach stream as an asset, its checks and schedules."""

import dagster as dg

from outreach_pipeline.defs.assets import STREAMS, outreach_streams
from outreach_pipeline.defs.checks import freshness_checks
from outreach_pipeline.defs.resources import duckdb_from_env, outreach_from_env
from outreach_pipeline.defs.schedules import build_schedules, nightly_job, sweep_job

_freshness = freshness_checks(list(STREAMS.values()))

defs = dg.Definitions(
    assets=[outreach_streams],
    asset_checks=_freshness,
    jobs=[nightly_job, sweep_job],
    schedules=build_schedules(),
    sensors=[
        dg.build_sensor_for_freshness_checks(
            freshness_checks=_freshness, default_status=dg.DefaultSensorStatus.RUNNING
        )
    ],
    resources={"outreach": outreach_from_env(), "duckdb": duckdb_from_env()},
)
