"""The asset graph follows the catalog's to-one relationships, stays acyclic, and leaves runs
as they were: every stream in one step; the preview leads with what a person recognises."""

from __future__ import annotations

from graphlib import TopologicalSorter

from outreach_pipeline.catalog import catalog, stream
from outreach_pipeline.definitions import defs
from outreach_pipeline.defs.assets import outreach_streams, preview_columns
from outreach_pipeline.defs.checks import relationship_targets
from outreach_pipeline.defs.grant_health import grant_health
from outreach_pipeline.defs.keys import asset_key
from outreach_pipeline.defs.lineage import dependency_order, reaches, upstream_streams
from outreach_pipeline.defs.schedules import nightly_job, sweep_job


def upstream_of(path: str) -> set[str]:
    graph = defs.resolve_asset_graph()
    return {key.path[-1] for key in graph.get(asset_key(stream(path))).parent_keys}


def test_streams_depend_on_the_streams_they_reference() -> None:
    assert {"accounts", "users", "stages", "personas"} <= upstream_of("prospects")
    assert "prospects" in upstream_of("emailAddresses")
    assert "users" in upstream_of("accounts")  # owner
    # Referenced by nearly all; only its role and profile (which reference nothing) are above it.
    assert upstream_of("users") == {"roles", "profiles"}
    assert upstream_of("roles") == upstream_of("profiles") == set()
    assert upstream_of("duties") == set()  # no relationships


def test_the_graph_is_acyclic_and_leaves_out_only_edges_closing_a_cycle() -> None:
    graph = defs.resolve_asset_graph()
    parents = {key: set(graph.get(key).parent_keys) for key in graph.get_all_asset_keys()}
    list(TopologicalSorter(parents).static_order())  # raises CycleError on a cycle
    upstream = upstream_streams()
    for path, entry in catalog().items():
        for target in relationship_targets(entry).values():
            if target.path != path:
                assert reaches(upstream, path, target.path) or reaches(
                    upstream, target.path, path
                ), (path, target)
    assert upstream_streams() == upstream_streams.__wrapped__()  # the same on every load


def test_runs_still_sync_every_selected_stream_in_one_step() -> None:
    for job in (nightly_job, sweep_job):
        resolved = defs.resolve_job_def(job.name)
        assert {node.name for node in resolved.nodes} == {
            outreach_streams.op.name,
            grant_health.op.name,
        }
    # A selection with a gap in the middle of a dependency chain (prospects -> accounts ->
    # users, accounts left out) is still one step, not one per asset.
    gap = {asset_key(stream("prospects")), asset_key(stream("users"))}
    subset = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection=gap)
    assert [node.name for node in subset.nodes] == [outreach_streams.op.name]
    assert outreach_streams.partitions_def is not None  # one run per grant, one step each


def test_materializations_are_recorded_upstream_first() -> None:
    ordered = [s.path for s in dependency_order(list(catalog().values()))]
    assert sorted(ordered) == sorted(catalog())
    for position, path in enumerate(ordered):
        assert set(upstream_streams()[path]) <= set(ordered[:position]), path


def test_the_column_list_leads_with_what_a_person_recognises() -> None:
    """The asset page's Columns table lists the schema in this order: not id, added_at,
    address_city... for prospects."""
    graph = defs.resolve_asset_graph()
    schema = graph.get(asset_key(stream("prospects"))).metadata["dagster/column_schema"]
    assert [c.name for c in schema.columns][:7] == [
        "name", "emails", "title", "stage_id", "owner_id", "updated_at", "id",
    ]  # fmt: skip


def test_the_preview_leads_with_what_a_person_recognises() -> None:
    assert preview_columns(stream("prospects")) == [
        "name", "emails", "title", "stage_id", "owner_id", "updated_at", "id",
    ]  # fmt: skip
    assert preview_columns(stream("users"))[:4] == ["name", "email", "title", "updated_at"]
    assert preview_columns(stream("mailings"))[:4] == ["subject", "state", "user_id", "updated_at"]
    assert preview_columns(stream("duties")) == ["symbolic_name", "id", "duty_type"]
    for entry in catalog().values():
        names = preview_columns(entry)
        assert "id" in names and len(names) == len(set(names)) <= 7, entry.path
        assert not names[0].startswith(("address", "added")), entry.path


def test_dependencies_are_asset_deps_not_inputs() -> None:
    """Deps carry no data: the op's inputs are all Nothing, so no IO manager loads anything."""
    inputs = outreach_streams.op.input_defs
    assert inputs and all(i.dagster_type.is_nothing for i in inputs)
