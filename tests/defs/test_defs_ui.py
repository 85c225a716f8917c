"""End to end: ``dagster dev`` (webserver, daemon, code server) against an emulator process,
every asset materialized through GraphQL, metadata and check results read back through it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from outreach_pipeline.catalog import catalog
from tests.defs.ui_support import LOCATION, DagsterDev, pipeline_env
from tests.sync.processes import EmulatorProcess

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""

RUN_STATUS = """
query Status($runId: ID!) {
  runOrError(runId: $runId) { ... on Run { status } }
}"""

ASSET = """
query Asset($key: AssetKeyInput!) {
  assetOrError(assetKey: $key) {
    ... on Asset {
      assetMaterializations(limit: 1) {
        metadataEntries {
          label
          ... on IntMetadataEntry { intValue }
          ... on MarkdownMetadataEntry { mdStr }
        }
      }
    }
  }
}"""

CHECK = """
query Check($key: AssetKeyInput!, $name: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $name, limit: 1) {
    status
    evaluation { success severity }
  }
}"""


@pytest.fixture
def dagster_dev(tmp_path: Path) -> Iterator[tuple[DagsterDev, EmulatorProcess]]:
    emulator = EmulatorProcess("--port", "0", "--seed", "7", "--scale", "200")
    dev = None
    try:
        dev = DagsterDev(pipeline_env(emulator, tmp_path), tmp_path)
        dev.wait_ready()
        yield dev, emulator
    finally:
        if dev is not None:
            dev.stop()
        emulator.stop()


def wait_for_run(dev: DagsterDev, run_id: str, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = dev.graphql(RUN_STATUS, runId=run_id)["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(1)
    raise AssertionError(f"run {run_id} still {status} after {timeout} s")


def test_materialize_everything_through_graphql(
    dagster_dev: tuple[DagsterDev, EmulatorProcess],
) -> None:
    dev, emulator = dagster_dev
    keys = [{"path": ["outreach", path]} for path in catalog()]
    keys.append({"path": ["outreach", "grant_health"]})
    params = {
        "selector": {
            "repositoryLocationName": LOCATION,
            "repositoryName": "__repository__",
            "pipelineName": "__ASSET_JOB",
            "assetSelection": keys,
        },
        "mode": "default",
    }
    launched = dev.graphql(LAUNCH, params=params)["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    assert wait_for_run(dev, run_id) == "SUCCESS", dev.log.read_text()[-5000:]

    for path in ("prospects", "duties", "mailings"):
        key = {"path": ["outreach", path]}
        asset = dev.graphql(ASSET, key=key)["assetOrError"]
        (materialization,) = asset["assetMaterializations"]
        entries = {e["label"]: e for e in materialization["metadataEntries"]}
        assert entries["dagster/row_count"]["intValue"] == len(emulator.records(path))
        assert entries["preview"]["mdStr"].startswith("| id |")
        (check,) = dev.graphql(CHECK, key=key, name="ids_unique")["assetCheckExecutions"]
        assert check["status"] == "SUCCEEDED"
        assert check["evaluation"]["success"] is True
    health = dev.graphql(CHECK, key={"path": ["outreach", "grant_health"]}, name="grant_usable")[
        "assetCheckExecutions"
    ]
    assert health[0]["evaluation"]["success"] is True
