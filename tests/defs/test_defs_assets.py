"""Stream assets materialized with ``dg.materialize`` against an in-process emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from outreach_emulator import Emulator
from outreach_pipeline.catalog import catalog, stream
from outreach_pipeline.defs.assets import SyncConfig, outreach_streams, preview_columns
from outreach_pipeline.defs.keys import asset_key
from outreach_pipeline.defs.lineage import upstream_streams
from outreach_pipeline.settings import DEFAULT_GRANT
from tests.defs.conftest import emulator_resources

RUN_METADATA = (
    "dagster/row_count",
    "records_inserted",
    "records_updated",
    "records_deleted",
    "records_refetched",
    "requests",
    "pages",
    "chains",
    "rate_limit_remaining",
    "cursor_before",
    "cursor_after",
    "duration_s",
    "preview",
)


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """Stream path -> metadata values of its materialization in ``result``."""
    return {
        event.asset_key.path[-1]: {k: v.value for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }


def table_count(db_path: Path, table: str) -> int:
    with duckdb.connect(str(db_path), read_only=True) as con:
        row = con.execute(f'SELECT count(*) FROM outreach."{table}"').fetchone()
    assert row is not None
    return int(row[0])


def test_all_streams_materialize_with_metadata_and_passing_checks(
    emulator: Emulator, resources: dict, db_path: Path, instance: dg.DagsterInstance
) -> None:
    result = dg.materialize(
        [outreach_streams], resources=resources, instance=instance, partition_key=DEFAULT_GRANT
    )

    assert result.success
    metadata = materialized(result)
    assert set(metadata) == set(catalog())
    for path, values in metadata.items():
        assert set(RUN_METADATA) <= set(values), path
        expected = len(emulator.data.records(path))
        assert values["dagster/row_count"] == expected == values["records_inserted"], path
        assert values["requests"] >= values["pages"] >= 1
        header = "| " + " | ".join(preview_columns(stream(path))) + " |"
        assert values["preview"].startswith(header + "\n"), path
    recorded = [e.asset_key.path[-1] for e in result.get_asset_materialization_events()]
    for position, path in enumerate(recorded):  # upstream first, as Dagster requires
        assert set(upstream_streams()[path]) <= set(recorded[:position]), path
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations), [
        (e.asset_key, e.check_name, e.metadata) for e in evaluations if not e.passed
    ]


@pytest.mark.parametrize(
    "path",
    [
        "duties",  # no cursor: reloaded whole
        "mailboxes",  # attribute and relationship both named user_id
        "prospects",  # wide, with many relationships
    ],
)
def test_one_stream_alone(
    path: str, emulator: Emulator, resources: dict, db_path: Path, instance: dg.DagsterInstance
) -> None:
    key = asset_key(stream(path))
    result = dg.materialize(
        [outreach_streams],
        selection=[key],
        resources=resources,
        instance=instance,
        partition_key=DEFAULT_GRANT,
    )

    assert result.success
    assert list(materialized(result)) == [path]
    assert {e.asset_key for e in result.get_asset_check_evaluations()} == {key}
    assert table_count(db_path, stream(path).table) == len(emulator.data.records(path))


def test_incremental_rerun_then_full_refresh_by_config(
    emulator: Emulator, resources: dict, instance: dg.DagsterInstance
) -> None:
    users = [asset_key(stream("users"))]

    def run(**kwargs: Any) -> dict[str, Any]:
        result = dg.materialize(
            [outreach_streams],
            selection=users,
            resources=resources,
            instance=instance,
            partition_key=DEFAULT_GRANT,
            **kwargs,
        )
        assert result.success
        return materialized(result)["users"]

    first = run()
    emulator.data.update("users", emulator.data.records("users")[0]["id"], {"title": "Chief"})
    emulator.clock.advance(2)  # a sync reads up to the API's time less a second
    again = run()
    assert again["cursor_before"] == first["cursor_after"]
    assert again["records_inserted"] == 0
    assert again["records_updated"] >= 1

    full = run(
        run_config=dg.RunConfig(ops={outreach_streams.op.name: SyncConfig(full_refresh=True)})
    )
    assert full["cursor_before"] == again["cursor_after"]
    assert full["records_updated"] == len(emulator.data.records("users"))


def test_a_failed_stream_fails_the_step_after_the_others_materialize(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Direct invocation: no step retries, so the failure shows at once."""
    without_duties = [s for s in catalog().values() if s.path != "duties"]
    resources = emulator_resources(emulator, tmp_path, without_duties)
    yielded: list[dg.MaterializeResult] = []

    with (
        dg.build_asset_context(resources=resources, partition_key=DEFAULT_GRANT) as context,
        pytest.raises(dg.Failure) as failure,
    ):
        for result in outreach_streams(context=context, config=SyncConfig()):
            yielded.append(result)

    assert f"1 of {len(catalog())} streams failed" in str(failure.value.description)
    assert "duties" in failure.value.metadata
    assert {r.asset_key for r in yielded} == {asset_key(s) for s in without_duties}
