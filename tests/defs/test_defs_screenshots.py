"""On demand (``pytest -m slow``): screenshots taken by headless Chromium from ``dg dev``, saved
into ``docs/``: the asset graph and an asset page after a full materialization, the
``grant_health`` page after ``outreach-pipeline auth logout``, and three grants' partitions with
the alert of the one whose user disconnected the app."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest

from outreach_pipeline.catalog import catalog, scopes_for
from outreach_pipeline.defs.grant_health import GRANT_HEALTH_JOB, grant_health
from outreach_pipeline.defs.resources import OutreachResource
from outreach_pipeline.defs.sensors import ALERT_JOB, TICK_SECONDS
from outreach_pipeline.settings import load_settings
from tests.auth.auth_support import store_issued_grant
from tests.defs.test_defs_grant_alert_daemon import HEALTH, finished
from tests.defs.test_defs_sensors import Webhook
from tests.defs.ui_support import (
    ROOT,
    AdminGrants,
    DagsterDev,
    auth_logout,
    instance_home,
    pipeline_env,
)
from tests.sync.processes import EmulatorProcess

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PAGES = {
    "dagster-asset-graph.png": "/asset-groups",
    "dagster-asset-prospects.png": "/assets/outreach/prospects",
}


def screenshot(url: str, out: Path) -> None:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                "--window-size=1400,900", "--virtual-time-budget=20000",
                f"--screenshot={out}", url,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_screenshots_of_the_asset_graph_and_an_asset_page(
    dagster_dev: tuple[DagsterDev, EmulatorProcess],
) -> None:
    dev, _ = dagster_dev
    assert dev.materialize_all() == "SUCCESS", dev.log.read_text()[-5000:]

    for name, page in PAGES.items():
        out = ROOT / "docs" / name
        screenshot(dev.url + page, out)
        assert out.stat().st_size > 10_000, f"{name} looks empty"


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_screenshot_of_grant_health_after_a_logout(tmp_path: Path) -> None:
    """Last night's materialization said the grant was fine; then ``auth logout``; the first
    sensor tick has the page say so, which the screenshot shows."""
    emulator = EmulatorProcess("--port", "0", "--seed", "7", "--scale", "50")
    dev = None
    try:
        env = pipeline_env(emulator, tmp_path)
        outreach = OutreachResource(variables=env)
        with dg.DagsterInstance.from_config(str(instance_home(tmp_path))) as instance:
            resources = {"outreach": outreach}
            assert dg.materialize([grant_health], resources=resources, instance=instance).success
        auth_logout(env, tmp_path)
        dev = DagsterDev(env, tmp_path)
        dev.wait_ready()
        deadline = time.monotonic() + 120
        while not finished(dev, GRANT_HEALTH_JOB) and time.monotonic() < deadline:
            time.sleep(1)
        health = dev.graphql(HEALTH)
        (latest,) = health["assetOrError"]["assetMaterializations"]
        entries = {e["label"]: e.get("boolValue") for e in latest["metadataEntries"]}
        assert entries["needs_reauthorization"] is True
        assert health["assetCheckExecutions"][0]["status"] == "FAILED"

        out = ROOT / "docs" / "grant-health-after-logout.png"
        screenshot(dev.url + "/assets/outreach/grant_health", out)
        assert out.stat().st_size > 10_000, "the screenshot looks empty"
    finally:
        if dev is not None:
            dev.stop()
        emulator.stop()


# grant -> (org, user): two users of acme, one of globex; acme's second user disconnects.
GRANTS = {"acme-ann": ("acme", 1), "acme-bob": ("acme", 2), "globex-cy": ("globex", 1)}
REVOKED = "acme-bob"

PARTITION_STATUS = """
{ assetNodeOrError(assetKey: {path: ["outreach", "prospects"]}) {
    ... on AssetNode { assetPartitionStatuses {
      ... on DefaultPartitionStatuses { materializedPartitions failedPartitions } } } } }"""

ALERT_OBSERVATIONS = """
query Alerts($grant: String!) {
  assetOrError(assetKey: {path: ["outreach", "grant_health"]}) {
    ... on Asset { assetObservations(partitions: [$grant], limit: 5) { timestamp description } }
  }
}"""


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_screenshots_of_grant_partitions_and_a_revoked_grants_alert(tmp_path: Path) -> None:
    """Three grants of two orgs materialized from ``dg dev``; then one user disconnects the app
    at the emulator and that grant's next run fails. The alert sensor, run by the daemon, alerts
    on its next tick (it ticks every TICK_SECONDS, the first at start-up, so this test waits
    ~5 minutes). Screenshots: a stream asset's partitions, the revoked grant's failed, and the
    alert as the observation on its ``grant_health`` partition."""
    emulator = EmulatorProcess("--port", "0", "--org", "acme:40", "--org", "globex:20")
    webhook = Webhook()
    dev = None
    try:
        env = {**pipeline_env(emulator, tmp_path), "OUTREACH_ALERT_WEBHOOK_URL": webhook.url}
        Path(env["OUTREACH_TOKEN_STORE"]).unlink()  # three named grants, not the default one
        settings = load_settings(env=env, dotenv=None)
        remote = SimpleNamespace(grants=AdminGrants(emulator))
        for grant, (org, user) in GRANTS.items():
            scopes = scopes_for(list(catalog().values()))
            store_issued_grant(
                remote,  # type: ignore[arg-type]
                settings.for_grant(grant),
                scopes=scopes,
                user_id=user,
                org=org,
            )
        dev = DagsterDev(env, tmp_path)
        dev.wait_ready()
        synced = {grant: dev.materialize_all(grant=grant) for grant in GRANTS}
        revoked = emulator.admin.post("/grants/revoke", json={"org": "acme", "user_id": 2})
        resynced = dev.materialize_all(grant=REVOKED)

        deadline = time.monotonic() + TICK_SECONDS + 120
        while not (alert_runs := finished(dev, ALERT_JOB)):
            assert time.monotonic() < deadline, (
                f"no {ALERT_JOB} run finished within {TICK_SECONDS + 120} s of the revoke:\n"
                + dev.log.read_text()[-5000:]
            )
            time.sleep(2)
        statuses = dev.graphql(PARTITION_STATUS)["assetNodeOrError"]["assetPartitionStatuses"]
        (alert,) = dev.graphql(ALERT_OBSERVATIONS, grant=REVOKED)["assetOrError"][
            "assetObservations"
        ]
        partitions_png = ROOT / "docs" / "dagster-grant-partitions.png"
        screenshot(
            f"{dev.url}/assets/outreach/prospects?view=partitions&partition={REVOKED}",
            partitions_png,
        )
        alert_png = ROOT / "docs" / "dagster-grant-alert.png"
        screenshot(
            f"{dev.url}/assets/outreach/grant_health?view=events&partition={REVOKED}"
            f"&time={alert['timestamp']}",
            alert_png,
        )
    finally:
        if dev is not None:
            dev.stop()
        webhook.close()
        emulator.stop()

    assert synced == dict.fromkeys(GRANTS, "SUCCESS"), (tmp_path / "dagster-dev.log").read_text()
    assert revoked.json() == {"revoked": 1}
    assert resynced == "FAILURE"
    assert statuses["failedPartitions"] == [REVOKED]
    assert set(statuses["materializedPartitions"]) - {REVOKED} == {"acme-ann", "globex-cy"}
    (run,) = alert_runs
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["status"] == "SUCCESS" and tags["outreach/grant"] == REVOKED
    (text,) = webhook.texts()
    assert text.startswith(f"The Outreach grant {REVOKED} needs reauthorization since ")
    assert alert["description"] == text
    for png in (partitions_png, alert_png):
        assert png.stat().st_size > 10_000, f"{png.name} looks empty"
