"""End to end: ``dg dev`` (webserver, daemon, code server) against an emulator process,
every asset materialized through GraphQL, metadata and check results read back through it."""

from __future__ import annotations

from outreach_pipeline.catalog import stream
from outreach_pipeline.defs.assets import preview_columns
from tests.defs.ui_support import DagsterDev
from tests.sync.processes import EmulatorProcess

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


def test_materialize_everything_through_graphql(
    dagster_dev: tuple[DagsterDev, EmulatorProcess],
) -> None:
    dev, emulator = dagster_dev
    assert dev.materialize_all() == "SUCCESS", dev.log.read_text()[-5000:]

    for path in ("prospects", "duties", "mailings"):
        key = {"path": ["outreach", path]}
        asset = dev.graphql(ASSET, key=key)["assetOrError"]
        (materialization,) = asset["assetMaterializations"]
        entries = {e["label"]: e for e in materialization["metadataEntries"]}
        assert entries["dagster/row_count"]["intValue"] == len(emulator.records(path))
        header = "| " + " | ".join(preview_columns(stream(path))) + " |"
        assert entries["preview"]["mdStr"].startswith(header)
        (check,) = dev.graphql(CHECK, key=key, name="ids_unique")["assetCheckExecutions"]
        assert check["status"] == "SUCCEEDED"
        assert check["evaluation"]["success"] is True
    health = dev.graphql(CHECK, key={"path": ["outreach", "grant_health"]}, name="grant_usable")[
        "assetCheckExecutions"
    ]
    assert health[0]["evaluation"]["success"] is True
