"""Grants as partitions: the partitions follow the token store, the schedules run each healthy
grant, and the alert sensor keeps one incident per grant, a dead grant never holding back the
others."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest

from outreach_emulator import Emulator
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.defs.alerts import AlertsResource
from outreach_pipeline.defs.grant_health import GRANT_HEALTH_JOB
from outreach_pipeline.defs.grants import GRANTS_NAME
from outreach_pipeline.defs.resources import OutreachResource
from outreach_pipeline.defs.schedules import build_schedules
from outreach_pipeline.defs.sensors import ALERT_JOB, grant_alerts
from outreach_pipeline.settings import DEFAULT_GRANT
from tests.defs.grants_support import add_grant, partitions_tick
from tests.defs.test_defs_sensors import Webhook

REFUSED = "the refresh token was refused (invalid_grant)"
TICK = time.time()


def revoke(outreach: OutreachResource, grant: str) -> None:
    """The grant as the token manager leaves it after Outreach refused its refresh token."""
    store = open_token_store(outreach.settings().for_grant(grant))
    stored = store.load()
    assert stored is not None
    store.save(stored.needing_reauthorization(REFUSED, time.time()))


def test_partitions_follow_logins_and_logouts(
    emulator: Emulator, resources: dict[str, Any]
) -> None:
    outreach = resources["outreach"]
    with dg.instance_for_test() as instance:
        partitions_tick(instance, outreach)
        assert instance.get_dynamic_partitions(GRANTS_NAME) == [DEFAULT_GRANT]

        add_grant(emulator, outreach, "beta")
        partitions_tick(instance, outreach)
        assert sorted(instance.get_dynamic_partitions(GRANTS_NAME)) == ["beta", DEFAULT_GRANT]
        unchanged = partitions_tick(instance, outreach)
        assert unchanged.skip_reason is not None

        open_token_store(outreach.settings().for_grant("beta")).delete()  # auth logout
        partitions_tick(instance, outreach)
        assert instance.get_dynamic_partitions(GRANTS_NAME) == [DEFAULT_GRANT]


def test_schedules_run_each_healthy_grant_and_name_the_others(
    emulator: Emulator, resources: dict[str, Any]
) -> None:
    outreach = resources["outreach"]
    for grant in ("beta", "gamma"):
        add_grant(emulator, outreach, grant)
    revoke(outreach, "beta")

    for schedule in build_schedules():
        with dg.build_schedule_context(resources={"outreach": outreach}) as context:
            requests = schedule(context)
        assert isinstance(requests, list)
        assert [r.partition_key for r in requests] == [DEFAULT_GRANT, "gamma"]

    for grant in (DEFAULT_GRANT, "gamma"):
        revoke(outreach, grant)
    for schedule in build_schedules():
        with dg.build_schedule_context(resources={"outreach": outreach}) as context:
            skipped = schedule(context)
        assert isinstance(skipped, dg.SkipReason)
        reason = str(skipped.skip_message)
        assert "auth login --grant beta" in reason and "auth login --grant gamma" in reason
        assert reason.count(REFUSED) == 3


@pytest.fixture
def hook() -> Iterator[Webhook]:
    receiver = Webhook()
    yield receiver
    receiver.close()


def alert_tick(
    instance: dg.DagsterInstance,
    outreach: OutreachResource,
    alerts: AlertsResource,
    cursor: str | None,
) -> dg.SensorResult:
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"outreach": outreach, "alerts": alerts}
    ) as context:
        result = grant_alerts(context)
    assert isinstance(result, dg.SensorResult)
    return result


def alert_runs(result: dg.SensorResult) -> dict[str, str]:
    """The alert runs asked for: run key -> grant."""
    return {
        r.run_key or "": r.tags["outreach/grant"]
        for r in result.run_requests or []
        if r.job_name == ALERT_JOB
    }


def test_one_incident_per_grant_and_a_dead_grant_never_stops_the_others(
    emulator: Emulator, resources: dict[str, Any], hook: Webhook
) -> None:
    webhook = hook
    outreach = resources["outreach"]
    alerts = AlertsResource(variables={"OUTREACH_ALERT_WEBHOOK_URL": webhook.url})
    for grant in ("beta", "gamma"):
        add_grant(emulator, outreach, grant)
    with dg.instance_for_test() as instance:
        healthy = alert_tick(instance, outreach, alerts, None)
        assert not webhook.texts()
        health_runs = [r for r in healthy.run_requests or [] if r.job_name == GRANT_HEALTH_JOB]
        assert sorted(r.partition_key or "" for r in health_runs) == ["beta", "default", "gamma"]

        revoke(outreach, "beta")
        revoke(outreach, "gamma")
        opened = alert_tick(instance, outreach, alerts, healthy.cursor)
        beta, gamma = sorted(webhook.texts())
        assert "grant beta needs reauthorization" in beta and "--grant beta" in beta
        assert "grant gamma needs reauthorization" in gamma and "--grant gamma" in gamma
        assert sorted(alert_runs(opened).values()) == ["beta", "gamma"]
        assert all(key.startswith(f"{grant}/") for key, grant in alert_runs(opened).items())
        assert {e.partition for e in opened.asset_events} == {"beta", "gamma"}
        assert sorted(json.loads(opened.cursor or "")) == ["beta", "gamma"]

        add_grant(emulator, outreach, "beta")  # beta logs in again; gamma stays dead
        resolved = alert_tick(instance, outreach, alerts, opened.cursor)
        assert len(webhook.texts()) == 3
        assert webhook.texts()[-1].startswith("Resolved: The Outreach grant beta")
        assert list(alert_runs(resolved).values()) == ["beta"]
        assert sorted(json.loads(resolved.cursor or "")) == ["gamma"]
