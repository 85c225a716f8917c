"""The code location loads; every stream is an asset with its metadata; schedules and jobs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from outreach_emulator import Emulator
from outreach_pipeline.catalog import catalog, stream
from outreach_pipeline.definitions import defs
from outreach_pipeline.defs.alerts import AlertsResource
from outreach_pipeline.defs.assets import GROUP, column_order, outreach_streams
from outreach_pipeline.defs.checks import IDS_UNIQUE, NO_FUTURE_ROWS, RELATIONSHIPS_FOUND
from outreach_pipeline.defs.grant_health import GRANT_HEALTH_KEY
from outreach_pipeline.defs.grants import GRANTS
from outreach_pipeline.defs.resources import OutreachResource
from outreach_pipeline.defs.schedules import build_schedules, nightly_job, sweep_job
from outreach_pipeline.settings import (
    DEFAULT_GRANT,
    Credentials,
    S2SSettings,
    Secret,
    SettingsError,
)
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
        names = [c.name for c in schema.columns]
        assert names[: len(column_order(entry))] == column_order(entry)
        assert "id" in names and names[-3:] == ["_extra", "_synced_at", "_deleted_at"]
        assert spec.freshness_policy is not None
        assert spec.freshness_policy.warn_window.to_timedelta() == timedelta(hours=36)
    assert outreach_streams.partitions_def == GRANTS
    assert outreach_streams.can_subset


def test_checks_per_stream() -> None:
    checks = {(k.asset_key.path[-1], k.name) for k in outreach_streams.check_keys}
    assert {(path, IDS_UNIQUE) for path in catalog()} <= checks
    assert ("users", NO_FUTURE_ROWS) in checks
    assert ("duties", NO_FUTURE_ROWS) not in checks  # no timestamp to compare
    assert ("mailboxes", RELATIONSHIPS_FOUND) in checks
    assert ("personas", RELATIONSHIPS_FOUND) not in checks  # no to-one relationships


def test_settings_from_the_environment_are_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``OUTREACH_*`` setting the environment sets, a secret above all, reaches the
    resources as a reference resolved in the run's process: no value is in their config."""
    monkeypatch.setenv("OUTREACH_CLIENT_ID", "prod-id")
    monkeypatch.setenv("OUTREACH_CLIENT_SECRET", "prod-secret-7f3e")
    monkeypatch.setenv("OUTREACH_ALERT_SMTP_PASSWORD", "smtp-secret-91ab")
    monkeypatch.setenv("OUTREACH_READ_SNAPSHOT_INTERVAL", "2.5")
    outreach, alerts = OutreachResource.from_env(), AlertsResource.from_env()

    for resource in (outreach, alerts):
        assert set(resource.variables) == {
            "OUTREACH_CLIENT_ID",
            "OUTREACH_CLIENT_SECRET",
            "OUTREACH_ALERT_SMTP_PASSWORD",
            "OUTREACH_READ_SNAPSHOT_INTERVAL",
        }
        assert all(isinstance(value, dg.EnvVar) for value in resource.variables.values())
        shown = str(resource.get_resource_definition().config_schema.default_value)
        assert "prod-secret-7f3e" not in shown and "smtp-secret-91ab" not in shown
    with dg.build_resources({"outreach": outreach}) as built:
        settings = built.outreach.settings_for("data/x.duckdb", DEFAULT_GRANT)
    assert settings.read_snapshot_interval == 2.5
    assert settings.credentials_for().client_secret.reveal() == "prod-secret-7f3e"


def test_schedules_fire_at_two_in_the_configured_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_SCHEDULE_TIMEZONE", "Europe/Berlin")
    nightly, weekly = build_schedules()
    assert nightly.cron_schedule == "0 2 * * *"
    assert nightly.execution_timezone == weekly.execution_timezone == "Europe/Berlin"
    assert nightly.default_status == weekly.default_status == dg.DefaultScheduleStatus.RUNNING
    assert nightly.job_name == nightly_job.name
    assert weekly.job_name == sweep_job.name


def test_scheduled_jobs_leave_out_the_streams_off_by_default() -> None:
    graph = defs.resolve_asset_graph()
    on = {dg.AssetKey(["outreach", s.path]) for s in catalog().values() if s.default}
    for job in (nightly_job, sweep_job):
        selected = job.selection.resolve(graph)
        assert {key for key in selected if key != GRANT_HEALTH_KEY} == on
        assert dg.AssetKey(["outreach", "webhooks"]) not in selected


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
    assert job.execute_in_process(
        instance=instance, asset_selection=prospects_only, partition_key=DEFAULT_GRANT
    ).success
    gone = emulator.data.records("prospects")[0]["id"]
    emulator.data.delete("prospects", gone)

    result = job.execute_in_process(
        instance=instance, asset_selection=prospects_only, partition_key=DEFAULT_GRANT
    )

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
    # One run at a time per grant (each grant's DuckDB file has one writer), grants side by side.
    assert {
        "key": "dagster/partition",
        "value": {"applyLimitPerUniqueValue": True},
        "limit": 1,
    } in (instance["concurrency"]["runs"]["tag_concurrency_limits"])
    assert instance["concurrency"]["runs"]["max_concurrent_runs"] >= 1
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    (entry,) = workspace["load_from"]
    assert entry["python_module"]["location_name"] == "outreach_pipeline"
    assert entry["python_module"]["module_name"] == "outreach_pipeline.definitions"


def test_resource_settings_carry_s2s_and_the_development_pair(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = tmp_path / "s2s.pem"
    key.write_text("not read until a token is needed")
    variables = {
        "OUTREACH_CLIENT_ID": "prod-id",
        "OUTREACH_CLIENT_SECRET": "prod secret",
        "OUTREACH_DEV_CLIENT_ID": "dev-id",
        "OUTREACH_DEV_CLIENT_SECRET": "dev secret+&=/%",
        "OUTREACH_S2S_GUID": "app-guid",
        "OUTREACH_S2S_INSTALL_ID": "install-1",
        "OUTREACH_S2S_PRIVATE_KEY_PATH": str(key),
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    configured = OutreachResource.from_env()
    assert set(configured.variables) == set(variables)
    with dg.build_resources({"outreach": configured}) as built:
        resolved = built.outreach
    settings = resolved.settings()

    assert settings.credentials_for("development") == Credentials(
        "development", "dev-id", Secret("dev secret+&=/%")
    )
    assert settings.credentials_for("production").client_id == "prod-id"
    assert settings.s2s == S2SSettings("app-guid", "install-1", key)
    assert (
        resolved.assess_stored_grant(DEFAULT_GRANT).needs_reauthorization is False
    )  # S2S stores no grant


def test_s2s_alone_needs_no_oauth_pair(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = tmp_path / "s2s.pem"
    key.write_text("key")
    for name in ("OUTREACH_CLIENT_ID", "OUTREACH_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OUTREACH_S2S_GUID", "app-guid")
    monkeypatch.setenv("OUTREACH_S2S_INSTALL_ID", "install-1")
    monkeypatch.setenv("OUTREACH_S2S_PRIVATE_KEY_PATH", str(key))

    with dg.build_resources({"outreach": OutreachResource.from_env()}) as built:
        resolved = built.outreach

    assert resolved.settings().credentials == ()
    assert resolved.settings().s2s is not None


def test_a_bad_alert_setting_is_reported_naming_the_variable() -> None:
    alerts = AlertsResource(variables={"OUTREACH_ALERT_SMTP_PORT": "smtp"})
    (problem,) = alerts.send("grant alert")
    assert problem.startswith("settings: OUTREACH_ALERT_SMTP_PORT: ") and "'smtp'" in problem
