"""Issue 5 end to end: a revoked grant fails the sync at once, the sensor alerts once with what
to do, a login resolves it with one notice, and the next sync succeeds.

Everything is real but the person: the in-process emulator revokes the grant and auto-consents,
syncs are ``dg.materialize`` runs on a test instance, the sensor is evaluated tick after tick
with the cursor each tick left, alerts go to a loopback HTTP webhook, and ``login`` runs the
real OAuth flow with the demo's browser stand-in.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import dagster as dg
from dagster_duckdb import DuckDBResource

from outreach_emulator import Emulator
from outreach_pipeline.auth.login import login
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.catalog import catalog, scopes_for
from outreach_pipeline.commands.demo import play_browser
from outreach_pipeline.defs.alerts import AlertsResource
from outreach_pipeline.defs.assets import outreach_streams
from outreach_pipeline.defs.grant_health import GRANT_HEALTH_JOB, GRANT_HEALTH_KEY
from outreach_pipeline.defs.resources import OutreachResource
from outreach_pipeline.defs.sensors import ALERT_JOB
from outreach_pipeline.settings import DEFAULT_GRANT
from tests.auth.auth_support import free_port, store_issued_grant
from tests.defs.grants_support import Sensor, events_of, outreach_for
from tests.defs.test_defs_sensors import Webhook, alert_requests


def sync(
    instance: dg.DagsterInstance, outreach: OutreachResource, duckdb: DuckDBResource
) -> tuple[dg.ExecuteInProcessResult, float]:
    started = time.monotonic()
    result = dg.materialize(
        [outreach_streams],
        resources={"outreach": outreach, "duckdb": duckdb},
        instance=instance,
        partition_key=DEFAULT_GRANT,
        raise_on_error=False,
    )
    return result, time.monotonic() - started


def test_revoked_grant_alert_login_resolved_sync(
    make_emulator: Callable[..., Emulator], tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    emulator = make_emulator(redirect_uris=(redirect_uri,))
    outreach = outreach_for(emulator, tmp_path, redirect_uri)
    settings = outreach.settings()
    streams = list(catalog().values())
    store_issued_grant(emulator, settings, scopes=scopes_for(streams))
    duckdb = DuckDBResource(database=str(tmp_path / "landing.duckdb"))
    webhook = Webhook()
    sensor = Sensor(
        instance, outreach, AlertsResource(variables={"OUTREACH_ALERT_WEBHOOK_URL": webhook.url})
    )
    try:
        healthy = sensor.tick()

        # The user disconnects the app in Outreach: the next sync fails at once, no retries.
        assert emulator.grants.revoke_all() >= 1
        failed, failed_in = sync(instance, outreach, duckdb)
        alert_tick = sensor.tick()
        quiet_tick = sensor.tick()

        # A person runs `auth login`; the emulator consents, the stand-in browser follows.
        shown: list[str] = []
        grant = login(
            settings,
            "production",
            scopes_for(streams),
            show=shown.append,
            open_browser=play_browser,
            stdin=io.StringIO(),
            timeout=30,
        )
        resolved_tick = sensor.tick()
        after_tick = sensor.tick()
        recovered, _ = sync(instance, outreach, duckdb)
    finally:
        webhook.close()

    # The failed sync: the reauthorization message, one attempt, well inside the retry delay.
    assert not failed.success
    (failure,) = events_of(failed, dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_failure_data is not None
    user_failure = failure.step_failure_data.user_failure_data
    assert user_failure is not None and user_failure.description is not None
    assert "needs reauthorization" in user_failure.description
    assert "outreach-pipeline auth login" in user_failure.description
    assert not events_of(failed, dg.DagsterEventType.STEP_UP_FOR_RETRY)
    assert failed_in < 15, failed_in  # a retry would first wait 30 s

    # Exactly one alert, then exactly one resolved notice; the first tick only records the
    # grant's state on outreach/grant_health.
    assert not alert_requests(healthy)
    assert [r.job_name for r in healthy.run_requests or []] == [GRANT_HEALTH_JOB]
    assert quiet_tick.skip_reason is not None and after_tick.skip_reason is not None
    alert, notice = webhook.texts()
    assert notice.startswith("Resolved: The Outreach grant needs reauthorization")

    # The alert: what happened, since when, what is blocked, what to run, where to consent.
    marked = alert_tick.asset_events[0].metadata["since"].value
    since = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(float(marked)))
    assert "The Outreach grant needs reauthorization since " + since in alert
    assert "invalid_grant" in alert, alert
    assert f"All {len(streams)} streams are blocked" in alert
    assert all(stream.path in alert for stream in streams)
    assert "`outreach-pipeline auth login`" in alert
    url = alert.split("it opens ", 1)[1].split()[0].rstrip(".")
    assert url.startswith(f"{emulator.oauth_url}/authorize?client_id={emulator.config.client_id}")
    assert f"redirect_uri={quote(redirect_uri, safe='')}" in url
    assert "scope=" in url and "state=production." in url
    secret = emulator.config.client_secret
    assert secret not in alert and quote(secret, safe="") not in alert
    assert "client_secret" not in alert

    # The UI: two alert runs (alert, resolved) and the incident on outreach/grant_health.
    runs = instance.get_runs(dg.RunsFilter(job_name=ALERT_JOB))
    assert len(runs) == 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    observations = instance.fetch_observations(GRANT_HEALTH_KEY, limit=10).records
    assert [r.asset_observation.metadata["state"].value for r in reversed(observations)] == [
        "open",
        "resolved",
    ]

    # After the login the grant is healthy and the sync brings every stream in.
    assert grant.reauthorization is None
    stored = open_token_store(settings).load()
    assert stored is not None and stored.reauthorization is None
    assert len(alert_requests(resolved_tick)) == 1
    assert recovered.success
    assert len(recovered.get_asset_materialization_events()) == len(streams)
