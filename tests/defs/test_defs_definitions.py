"""The code location loads; every stream is an asset with its metadata; schedules and jobs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from outreach_pipeline.catalog import catalog, stream
from outreach_pipeline.definitions import defs
from outreach_pipeline.defs.assets import DUCKDB_POOL, GROUP, outreach_streams
from outreach_pipeline.defs.checks import IDS_UNIQUE, NO_FUTURE_ROWS, RELATIONSHIPS_FOUND
from outreach_pipeline.defs.grant_health import GRANT_HEALTH_KEY
from outreach_pipeline.defs.schedules import build_schedules, nightly_job, sweep_job
from outreach_pipeline.emulator import Emulator
from outreach_pipeline.settings import SettingsError
from tests.defs.ui_support import ROOT


def test_definitions_load() -> None:
    dg.Definitions.validate_loadable(defs)


def test_one_asset_per_stream_with_catalog_metadata() -> None:
    specs = {
        spec.key: spec for spec in defs.resolve_all_asset_specs() if spec.key != GRANT_HEALTH_KEY
    }
    assert set(specs) == {dg.AssetKey(["outreach", path]) for path in catalog()}
    for key, spec in specs.items():
        entry = stream(key.path[-1])
        assert spec.group_name == GROUP
        assert spec.kinds == {"outreach", "duckdb"}
        assert spec.description == entry.summary
        assert spec.metadata["outreach/scope"] == entry.scope
        assert spec.metadata["dagster/table_name"] == f"outreach.{entry.table}"
        schema = spec.metadata["dagster/column_schema"]
        assert [c.name for c in schema.columns][:1] == ["id"]
        assert spec.freshness_policy is not None
        assert spec.freshness_policy.warn_window.to_timedelta() == timedelta(hours=36)
    assert outreach_streams.op.pool == DUCKDB_POOL
    assert outreach_streams.can_subset


def test_checks_per_stream() -> None:
    checks = {(k.asset_key.path[-1], k.name) for k in outreach_streams.check_keys}
    assert {(path, IDS_UNIQUE) for path in catalog()} <= checks
    assert ("users", NO_FUTURE_ROWS) in checks
    assert ("duties", NO_FUTURE_ROWS) not in checks  # no timestamp to compare
    assert ("mailboxes", RELATIONSHIPS_FOUND) in checks
    assert ("personas", RELATIONSHIPS_FOUND) not in checks  # no to-one relationships


def test_secrets_are_env_vars() -> None:
    outreach = defs.resources["outreach"]
    assert isinstance(outreach.client_secret, dg.EnvVar)
    assert isinstance(outreach.client_id, dg.EnvVar)


def test_schedules_fire_at_two_in_the_configured_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_SCHEDULE_TIMEZONE", "Europe/Berlin")
    nightly, weekly = build_schedules()
    assert nightly.cron_schedule == "0 2 * * *"
    assert nightly.execution_timezone == weekly.execution_timezone == "Europe/Berlin"
    assert nightly.default_status == weekly.default_status == dg.DefaultScheduleStatus.RUNNING
    assert nightly.job_name == nightly_job.name
    assert weekly.job_name == sweep_job.name


def test_an_unknown_timezone_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_SCHEDULE_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="OUTREACH_SCHEDULE_TIMEZONE"):
        build_schedules()


def test_weekly_sweep_job_marks_deleted_records(
    emulator: Emulator, resources: dict[str, Any], db_path: Path, instance: dg.DagsterInstance
) -> None:
    """The sweep job as its schedule launches it (its run config included), on one stream."""
    jobs = dg.Definitions(assets=[outreach_streams], jobs=[sweep_job], resources=resources)
    job = jobs.resolve_job_def(sweep_job.name)
    prospects_only = [dg.AssetKey(["outreach", "prospects"])]
    assert job.execute_in_process(instance=instance, asset_selection=prospects_only).success
    gone = emulator.data.records("prospects")[0]["id"]
    emulator.data.delete("prospects", gone)

    result = job.execute_in_process(instance=instance, asset_selection=prospects_only)

    assert result.success
    prospects = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["outreach", "prospects"])
    ]
    assert prospects[0].materialization.metadata["records_deleted"].value == 1


def test_grant_alert_sensor_runs_by_default() -> None:
    sensor = defs.resolve_sensor_def("outreach_grant_alerts")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_instance_and_workspace_settings() -> None:
    instance = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert instance["storage"]["sqlite"]["base_dir"].startswith("data/dagster/")
    assert instance["telemetry"]["enabled"] is False
    assert instance["nux"]["enabled"] is False
    assert instance["concurrency"]["pools"]["default_limit"] == 1
    assert instance["concurrency"]["runs"]["max_concurrent_runs"] >= 1
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    (entry,) = workspace["load_from"]
    assert entry["python_module"]["location_name"] == "outreach_pipeline"
    assert entry["python_module"]["module_name"] == "outreach_pipeline.definitions"
