"""Issue 20 end to end: three grants of two orgs; one user disconnects the app in Outreach.
Only that grant's run fails, at once, saying which grant and the command that fixes it; the
other two sync their own org's data; one alert names it; the next schedule tick leaves it out
and says why; after ``auth login --grant NAME`` one "Resolved" notice and its run succeeds.

Everything is real but the person: the in-process emulator (two orgs) revokes the user's
grants, the nightly schedule and the alert sensor are evaluated tick after tick on one Dagster
instance, their runs launched as the daemon launches them, alerts go to a loopback webhook, and
``login`` runs the real OAuth flow with the demo's browser stand-in. The instance keeps its
storage in memory: with the SQLite files of ``instance_for_test`` each run's ~500 events made the
test take twice as long (28 s against 15 s), and over a minute next to the rest of the suite.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from outreach_emulator import Emulator, OrgSpec
from outreach_pipeline.auth.login import login
from outreach_pipeline.catalog import catalog, default_streams, scopes_for
from outreach_pipeline.commands.demo import play_browser
from outreach_pipeline.defs.alerts import AlertsResource
from outreach_pipeline.defs.grants import GRANTS_NAME
from outreach_pipeline.defs.sensors import ALERT_JOB
from tests.auth.auth_support import free_port
from tests.defs.grants_support import (
    Sensor,
    add_grant,
    events_of,
    nightly_tick,
    outreach_for,
    partitions_tick,
    run_nightly,
)
from tests.defs.test_defs_sensors import Webhook, alert_requests
from tests.sync.support import assert_landing_equals_emulator

# grant -> (org, user): two users of acme, one of globex. acme's second user disconnects.
GRANTS = {"acme-ann": ("acme", 1), "acme-bob": ("acme", 2), "globex-cy": ("globex", 1)}
REVOKED = "acme-bob"
HEALTHY = ["acme-ann", "globex-cy"]


def test_one_revoked_grant_among_three(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    emulator = make_emulator(
        redirect_uris=(redirect_uri,),
        orgs=(OrgSpec("acme", seed=7, scale=40), OrgSpec("globex", seed=8, scale=20)),
    )
    outreach = outreach_for(emulator, tmp_path, redirect_uri)
    for grant, (org, user) in GRANTS.items():
        add_grant(emulator, outreach, grant, org=org, user_id=user)
    duckdb = DuckDBResource(database=str(tmp_path / "landing.duckdb"))
    resources = {"outreach": outreach, "duckdb": duckdb}
    webhook = Webhook()
    with dg.DagsterInstance.ephemeral() as instance:
        try:
            partitions_tick(instance, outreach)
            assert sorted(instance.get_dynamic_partitions(GRANTS_NAME)) == sorted(GRANTS)
            sensor = Sensor(
                instance,
                outreach,
                AlertsResource(variables={"OUTREACH_ALERT_WEBHOOK_URL": webhook.url}),
            )
            healthy_tick = sensor.tick()

            # Bob disconnects the app in Outreach; the nightly tick still asks for all three
            # (nothing has told the pipeline yet), and Bob's run is the one to find out.
            assert emulator.grants.revoke_user("acme", 2) == 1
            first, first_log = nightly_tick(instance, outreach)
            assert isinstance(first, list), first
            assert sorted(r.partition_key or "" for r in first) == sorted(GRANTS)
            runs, took = {}, {}
            for request in first:
                began = time.monotonic()
                runs[request.partition_key] = run_nightly(instance, request, resources)
                took[request.partition_key] = time.monotonic() - began

            alert_tick = sensor.tick()
            quiet_ticks = [sensor.tick(), sensor.tick()]
            second, second_log = nightly_tick(instance, outreach)

            # Bob logs in again (as Bob: the emulator's consent page signs in acme's user 2).
            emulator.grants.authorize_as("acme", 2)
            login(
                outreach.settings().for_grant(REVOKED),
                "production",
                scopes_for(list(catalog().values())),
                show=lambda _: None,
                open_browser=play_browser,
                stdin=io.StringIO(),
                timeout=30,
            )
            resolved_tick = sensor.tick()
            after_tick = sensor.tick()
            third, _ = nightly_tick(instance, outreach)
            assert isinstance(third, list), third
            (again,) = [r for r in third if r.partition_key == REVOKED]
            recovered = run_nightly(instance, again, resources)
            alert_runs = instance.get_runs(dg.RunsFilter(job_name=ALERT_JOB))
        finally:
            webhook.close()

    # Bob's run failed at once (no retry waits 30 s first) saying which grant and what to run.
    failed = runs[REVOKED]
    assert not failed.success
    assert not events_of(failed, dg.DagsterEventType.STEP_UP_FOR_RETRY)
    assert took[REVOKED] < 15, took
    (failure,) = events_of(failed, dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_failure_data is not None
    user_failure = failure.step_failure_data.user_failure_data
    assert user_failure is not None and user_failure.description is not None
    description = user_failure.description
    assert f"The Outreach grant {REVOKED} needs reauthorization" in description, description
    assert f"`outreach-pipeline auth login --grant {REVOKED}`" in description, description
    assert "invalid_grant" in description, description

    # Ann's and Cy's runs succeeded, each landing exactly its own org's data.
    for grant in HEALTHY:
        assert runs[grant].success, grant
        org = GRANTS[grant][0]
        landing = outreach.settings_for(duckdb.database, grant).grant_duckdb_path
        assert_landing_equals_emulator(emulator, landing, default_streams(), org=org)
    assert first_log == []  # every grant looked healthy before Bob's run found out

    # Exactly one alert, for Bob's grant, and nothing more while it lasts.
    assert not alert_requests(healthy_tick)
    (alert,) = alert_requests(alert_tick)
    assert alert.tags["outreach/grant"] == REVOKED
    assert all(not alert_requests(t) and t.skip_reason for t in quiet_ticks)
    assert f"needs_reauthorization ({REVOKED})" in str(quiet_ticks[-1].skip_reason)
    texts = webhook.texts()
    assert len(texts) == 2, texts  # the alert, then (after the login) the resolved notice
    assert texts[0].startswith(f"The Outreach grant {REVOKED} needs reauthorization since ")
    assert f"--grant {REVOKED}" in texts[0]
    assert not any(grant in text for grant in HEALTHY for text in texts), texts
    assert [e.partition for e in alert_tick.asset_events] == [REVOKED]

    # The next nightly tick asks only for Ann and Cy and its log names Bob with the reason.
    assert isinstance(second, list), second
    assert sorted(r.partition_key or "" for r in second) == HEALTHY
    (skipped,) = second_log
    assert f"The Outreach grant {REVOKED} needs reauthorization" in skipped, skipped
    assert "invalid_grant" in skipped and f"auth login --grant {REVOKED}" in skipped, skipped

    # After the login: one "Resolved" notice for Bob, then quiet; his run lands acme's data.
    assert texts[1].startswith(f"Resolved: The Outreach grant {REVOKED} needs reauthorization")
    (notice,) = alert_requests(resolved_tick)
    assert notice.tags["outreach/grant"] == REVOKED
    assert not alert_requests(after_tick) and after_tick.skip_reason is not None
    assert sorted(r.partition_key or "" for r in third) == sorted(GRANTS)
    assert recovered.success
    landing = outreach.settings_for(duckdb.database, REVOKED).grant_duckdb_path
    assert_landing_equals_emulator(emulator, landing, default_streams(), org="acme")
    assert len(alert_runs) == 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in alert_runs)
