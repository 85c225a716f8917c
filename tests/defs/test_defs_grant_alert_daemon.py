"""The alert sensor under the real daemon (``dg dev``): with no grant stored, its first
tick posts one alert, launches one ``outreach_grant_alert`` run, records the incident on
``outreach/grant_health`` and has the asset rematerialized, so its page leads with the grant
needing a person and a failed check. Slow (``dg dev`` takes ~20 s to start): ``pytest -m slow``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from outreach_pipeline.defs.grant_health import GRANT_HEALTH_JOB
from outreach_pipeline.defs.sensors import ALERT_JOB
from tests.defs.test_defs_sensors import Webhook
from tests.defs.ui_support import DagsterDev, pipeline_env
from tests.sync.processes import EmulatorProcess

RUNS = """
query Runs($job: String!) {
  runsOrError(filter: {pipelineName: $job}) {
    ... on Runs { results { status tags { key value } } }
  }
}"""

OBSERVATIONS = """
{
  assetOrError(assetKey: {path: ["outreach", "grant_health"]}) {
    ... on Asset {
      assetObservations(limit: 5) {
        description
        metadataEntries { label ... on TextMetadataEntry { text } }
      }
    }
  }
}"""


HEALTH = """
{
  assetOrError(assetKey: {path: ["outreach", "grant_health"]}) {
    ... on Asset {
      assetMaterializations(limit: 1) {
        metadataEntries { label ... on BoolMetadataEntry { boolValue } }
      }
    }
  }
  assetCheckExecutions(
    assetKey: {path: ["outreach", "grant_health"]}, checkName: "grant_usable", limit: 1
  ) { status }
}"""


def finished(dev: DagsterDev, job: str) -> list[dict]:
    runs = dev.graphql(RUNS, job=job)["runsOrError"]["results"]
    return runs if runs and runs[0]["status"] in ("SUCCESS", "FAILURE") else []


@pytest.mark.slow
def test_the_daemon_launches_one_alert_run_and_records_the_incident(tmp_path: Path) -> None:
    emulator = EmulatorProcess("--port", "0", "--seed", "7", "--scale", "50")
    webhook = Webhook()
    dev = None
    try:
        env = pipeline_env(emulator, tmp_path)
        Path(env["OUTREACH_TOKEN_STORE"]).unlink()  # the grant is gone before the first tick
        env["OUTREACH_ALERT_WEBHOOK_URL"] = webhook.url
        dev = DagsterDev(env, tmp_path)
        dev.wait_ready()
        deadline = time.monotonic() + 120
        runs: list[dict] = []
        health_runs: list[dict] = []
        while time.monotonic() < deadline and not (runs and health_runs):
            runs = finished(dev, ALERT_JOB)
            health_runs = finished(dev, GRANT_HEALTH_JOB)
            time.sleep(1)
        observations = dev.graphql(OBSERVATIONS)["assetOrError"]["assetObservations"]
        health = dev.graphql(HEALTH)
    finally:
        if dev is not None:
            dev.stop()
        webhook.close()
        emulator.stop()

    (run,) = runs
    assert run["status"] == "SUCCESS", (tmp_path / "dagster-dev.log").read_text()[-5000:]
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["dagster/run_key"].startswith("no_grant@")
    assert tags["outreach/incident"] == "no_grant"
    (observation,) = observations
    assert observation["description"].startswith("No Outreach grant is stored")
    entries = {e["label"]: e.get("text") for e in observation["metadataEntries"]}
    assert entries["state"] == "open"
    (text,) = webhook.texts()
    assert "outreach-pipeline auth login" in text
    (health_run,) = health_runs
    assert health_run["status"] == "SUCCESS"
    (materialization,) = health["assetOrError"]["assetMaterializations"]
    entries = {e["label"]: e.get("boolValue") for e in materialization["metadataEntries"]}
    assert entries["needs_reauthorization"] is True
    (check,) = health["assetCheckExecutions"]
    assert check["status"] == "FAILED"
