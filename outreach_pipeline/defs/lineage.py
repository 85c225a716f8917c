"""Which stream assets depend on which, for the asset graph: derived from the catalog's to-one
relationships, so the graph explains the model (prospects -> accounts, owners -> users).

Direction: a stream referencing another through a to-one relationship depends on it (the
referenced one is upstream). The relationships form cycles (users <-> mailboxes, calls <->
tasks) and Dagster rejects a cyclic asset graph, so the edges are added one by one, the ones
pointing at the most referenced streams first (users, accounts, prospects: the model's core),
ties broken by name, and an edge closing a cycle is left out. Self-references (a user's creator
is a user) are left out too. The result is the same on every load.

The deps are lineage only: every stream asset lives in one subsettable step (assets.py), so
they change neither what a run selects nor how the step fetches; only the order the step yields
its results in (``dependency_order``).
"""

from collections import Counter
from functools import cache
from graphlib import TopologicalSorter

from outreach_pipeline.catalog import Stream, catalog
from outreach_pipeline.defs.checks import relationship_targets


def reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    """Whether ``goal`` is reachable from ``start`` following ``graph``'s edges."""
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return False


@cache
def upstream_streams() -> dict[str, tuple[str, ...]]:
    """Stream path -> the stream paths it depends on (sorted), acyclic."""
    streams = catalog()
    references = {
        path: {target.path for target in relationship_targets(stream).values()} - {path}
        for path, stream in streams.items()
    }
    referenced_by = Counter(target for targets in references.values() for target in targets)
    edges = sorted(
        ((source, target) for source, targets in references.items() for target in targets),
        key=lambda edge: (-referenced_by[edge[1]], edge[0], edge[1]),
    )
    graph: dict[str, set[str]] = {path: set() for path in streams}
    for source, target in edges:
        if not reaches(graph, target, source):
            graph[source].add(target)
    return {path: tuple(sorted(targets)) for path, targets in graph.items()}


def dependency_order(streams: list[Stream]) -> list[Stream]:
    """``streams`` with each after the ones of them it depends on: the order the step yields
    their materializations in (Dagster fails a multi-asset step that yields an asset after one
    depending on it)."""
    by_path = {s.path: s for s in streams}
    upstream = upstream_streams()
    graph = {path: [u for u in upstream[path] if u in by_path] for path in by_path}
    return [by_path[path] for path in TopologicalSorter(graph).static_order()]
