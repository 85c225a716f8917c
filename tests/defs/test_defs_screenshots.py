"""On demand (``pytest -m slow``): screenshots taken by headless Chromium from ``dg dev``, saved
into ``docs/``: the asset graph and an asset page after a full materialization, and the
``grant_health`` page after ``outreach-pipeline auth logout``."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import dagster as dg
import pytest

from outreach_pipeline.defs.grant_health import GRANT_HEALTH_JOB, grant_health
from outreach_pipeline.defs.resources import OutreachResource
from tests.defs.test_defs_grant_alert_daemon import HEALTH, finished
from tests.defs.ui_support import ROOT, DagsterDev, auth_logout, instance_home, pipeline_env
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
