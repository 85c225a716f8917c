"""To-many relationships that are the other side of a link another stream holds, found from the
catalog's relationship names, so that both sides agree:

- a to-many named like its target stream whose target has a to-one named like this stream's
  type is the list of records naming this one: ``mailings.tasks`` lists the tasks whose
  ``mailing`` is the mailing (``templates.sequenceTemplates``, ...); within one stream,
  ``childXs`` lists the records whose ``parentX`` is this one (``roles.childRoles``). When the
  target is owned through that to-one (a prospect's email addresses) the record factory lists
  them already;
- two to-many relationships naming each other's stream with the same prefix are one
  many-to-many link: ``users.teams``/``teams.users``, ``users.roleAssignedTeams``/
  ``teams.roleAssignedUsers``. The side of the stream with more records holds the link
  (generated as picks, editable); the other side lists the records that name it.

Relationships naming a subset (``sequenceStates.activeStepMailings``, ``prospects.
activeSequenceStates``) are not reverse links by these rules and stay as generated.
"""

from __future__ import annotations

from dataclasses import dataclass

from outreach_emulator.generation import GenerationRules
from outreach_pipeline.catalog import Stream


@dataclass(frozen=True)
class ReverseLink:
    """Records of ``source`` whose relationship ``rel`` names the record being shown."""

    source: str
    rel: str


@dataclass(frozen=True)
class LinkPlan:
    # (path, to-many rel) -> where its ids come from
    reverse: dict[tuple[str, str], ReverseLink]
    # (path, to-many rel) holding one side of a many-to-many link: generated as picks
    many_to_many: frozenset[tuple[str, str]]


def plan_links(
    streams: dict[str, Stream], rules: GenerationRules, sizes: dict[str, int]
) -> LinkPlan:
    path_of_type = {s.jsonapi_type: s.path for s in streams.values()}
    reverse: dict[tuple[str, str], ReverseLink] = {}
    holders: set[tuple[str, str]] = set()
    for path, stream in streams.items():
        for rel, target_type in stream.to_many.items():
            target = path_of_type.get(target_type)
            if target is None:
                continue
            back = _to_one_back(stream, rel, streams[target])
            if back is not None:
                owned = rules.owners.get(target) == (back, path)
                if not owned:
                    reverse[(path, rel)] = ReverseLink(target, back)
                continue
            other = _many_back(stream, rel, streams[target])
            if other is None:
                continue
            if (sizes.get(path, 0), target) > (sizes.get(target, 0), path):
                holders.add((path, rel))
            else:
                reverse[(path, rel)] = ReverseLink(target, other)
    return LinkPlan(reverse, frozenset(holders))


def _to_one_back(stream: Stream, rel: str, target: Stream) -> str | None:
    """``target``'s to-one naming ``stream``'s records, when ``rel`` lists ``target``'s; in a
    tree within one stream, the ``parentX`` a ``childXs`` lists (``roles.childRoles``)."""
    back = stream.jsonapi_type
    if target is stream and rel.startswith("child") and rel.endswith("s"):
        back = "parent" + rel[len("child") : -1]
        return back if stream.to_one.get(back) == stream.jsonapi_type else None
    if rel == target.path and target.to_one.get(back) == stream.jsonapi_type:
        return back
    return None


def _many_back(stream: Stream, rel: str, target: Stream) -> str | None:
    """``target``'s to-many that is the other side of ``rel`` (same prefix, each naming the
    other's stream), if it has one."""
    for name, other_name in ((target.path, stream.path), (_cap(target.path), _cap(stream.path))):
        if rel.endswith(name):
            prefix = rel[: -len(name)]
            if (name == target.path) != (prefix == ""):
                continue
            back = prefix + other_name
            if back != rel and target.to_many.get(back) == stream.jsonapi_type:
                return back
    return None


def _cap(path: str) -> str:
    return path[:1].upper() + path[1:]
