"""How a stream is named in Dagster: its asset key, shared by the assets, their checks and
their lineage."""

from __future__ import annotations

import dagster as dg

from outreach_pipeline.catalog import Stream


def asset_key(stream: Stream) -> dg.AssetKey:
    return dg.AssetKey(["outreach", stream.path])
