"""Helpers the grant tests share: grants stored as ``auth login --grant NAME`` leaves them, and
ticks of the partitions sensor, the alert sensor and the nightly schedule run as the daemon runs
them, with the runs they ask for."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.storage.tags import RUN_KEY_TAG

from outreach_emulator import Emulator
from outreach_pipeline.catalog import catalog, scopes_for
from outreach_pipeline.defs.alerts import AlertsResource
from outreach_pipeline.defs.assets import outreach_streams
from outreach_pipeline.defs.grants import grant_partitions
from outreach_pipeline.defs.resources import OutreachResource
from outreach_pipeline.defs.schedules import build_schedules, nightly_job
from outreach_pipeline.defs.sensors import grant_alerts
from tests.auth.auth_support import store_issued_grant
from tests.defs.test_defs_sensors import launch


def outreach_for(
    emulator: Emulator, tmp_path: Path, redirect_uri: str | None = None
) -> OutreachResource:
    """The resource pointed at ``emulator``, its token store under ``tmp_path`` (no grant in it
    yet); ``redirect_uri`` for tests that run ``auth login``."""
    variables = {
        "OUTREACH_CLIENT_ID": emulator.config.client_id,
        "OUTREACH_CLIENT_SECRET": emulator.config.client_secret,
        "OUTREACH_API_URL": emulator.api_url,
        "OUTREACH_OAUTH_URL": emulator.oauth_url,
        "OUTREACH_TOKEN_STORE": str(tmp_path / "grant.json"),
    }
    if redirect_uri is not None:
        variables["OUTREACH_REDIRECT_URI"] = redirect_uri
    return OutreachResource(variables=variables)


def add_grant(
    emulator: Emulator,
    outreach: OutreachResource,
    grant: str,
    org: str | None = None,
    user_id: int = 1,
) -> None:
    """``auth login --grant NAME`` by ``user_id`` of ``org``, without the browser, with every
    stream's scopes."""
    settings = outreach.settings().for_grant(grant)
    scopes = scopes_for(list(catalog().values()))
    store_issued_grant(emulator, settings, scopes=scopes, user_id=user_id, org=org)


def partitions_tick(instance: dg.DagsterInstance, outreach: OutreachResource) -> dg.SensorResult:
    """One tick of the partitions sensor, its requests applied as the daemon applies them."""
    with dg.build_sensor_context(instance=instance, resources={"outreach": outreach}) as context:
        result = grant_partitions(context)
    assert isinstance(result, dg.SensorResult)
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    return result


class Sensor:
    """Ticks of the alert sensor as the daemon runs them: each from the cursor the last left,
    its runs launched (once per run key) and its asset events recorded on the instance."""

    def __init__(
        self, instance: dg.DagsterInstance, outreach: OutreachResource, alerts: AlertsResource
    ) -> None:
        self.instance = instance
        self.resources = {"outreach": outreach, "alerts": alerts}
        self.cursor: str | None = None

    def tick(self) -> dg.SensorResult:
        with dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources=self.resources
        ) as context:
            result = grant_alerts(context)
        assert isinstance(result, dg.SensorResult)
        self.cursor = result.cursor
        launch(self.instance, list(result.run_requests or []), self.resources)
        for event in result.asset_events:
            self.instance.report_runless_asset_event(event)
        return result


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def nightly_tick(
    instance: dg.DagsterInstance, outreach: OutreachResource
) -> tuple[list[dg.RunRequest] | dg.SkipReason, list[str]]:
    """One tick of the nightly schedule: what it asks for and the lines its tick log got."""
    (nightly,) = [s for s in build_schedules() if s.job_name == nightly_job.name]
    lines = _Lines()
    with dg.build_schedule_context(instance=instance, resources={"outreach": outreach}) as context:
        context.log.addHandler(lines)
        asked = nightly(context)
    assert isinstance(asked, list | dg.SkipReason), asked
    return asked, lines.lines


def run_nightly(
    instance: dg.DagsterInstance, request: dg.RunRequest, resources: dict[str, Any]
) -> dg.ExecuteInProcessResult:
    """The nightly run ``request`` asks for, as the daemon launches it (its partition, its run
    key), in this process; failures are returned, not raised."""
    job = dg.Definitions(
        assets=[outreach_streams], jobs=[nightly_job], resources=resources
    ).resolve_job_def(nightly_job.name)
    tags = {**request.tags, RUN_KEY_TAG: request.run_key or ""}
    return job.execute_in_process(
        instance=instance, partition_key=request.partition_key, tags=tags, raise_on_error=False
    )


def events_of(
    result: dg.ExecuteInProcessResult, kind: dg.DagsterEventType
) -> list[dg.DagsterEvent]:
    return [e for e in result.all_events if e.event_type == kind]
