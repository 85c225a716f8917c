"""The per-stream generation rules, read from ``generation.json`` beside this module.

They say what the generated data looks like, stream by stream, as data rather than code:

- ``owners``: which streams are owned by which (a mailing by its prospect), through which
  relationship; ownership is contiguous (see ``population``).
- ``resolve_order``: the relationship target types resolved first, so later ones can follow
  them (a mailing's sequence step follows its sequence).
- ``relationships``: per stream, how a to-one relationship gets its id when it is not the owner
  and not the default ``pick`` (a deterministic choice, a quarter left empty). Rules: ``always``
  (a pick never left empty), ``none``, ``earlier`` (a parent made before the record, for
  a tree within one stream), ``account_of_prospect``, ``first_of_prospect`` (the
  first record the prospect owns in the target stream), ``mailbox_of_user``, ``own_mailbox``,
  ``prospect_of_opportunity``, ``sequence_of_state``, ``step_of_sequence`` (implemented in
  ``records``).
- ``shared_attributes`` and ``attributes``: which value an attribute gets, by name for every
  stream, then per stream (which wins). A rule is a builder's name or a one-key object with its
  parameters (implemented in ``attributes``). Attributes with no rule get one by their type.

A relationship or attribute the catalog does not have is an error (``check_rules``), so the
rules cannot silently drift from ``streams.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from outreach_pipeline.catalog import Stream

AttributeRule = str | dict[str, Any]


@dataclass(frozen=True)
class GenerationRules:
    owners: dict[str, tuple[str, str]]
    resolve_order: tuple[str, ...]
    relationships: dict[str, dict[str, str]]
    shared_attributes: dict[str, AttributeRule]
    attributes: dict[str, dict[str, AttributeRule]]

    def owner_relationship(self, path: str) -> str | None:
        """The relationship naming the owner of a record of ``path`` (None: not owned)."""
        owned = self.owners.get(path)
        return owned[0] if owned else None

    def owner_stream(self, path: str) -> str | None:
        owned = self.owners.get(path)
        return owned[1] if owned else None

    def relationship_rule(self, path: str, rel: str) -> str:
        return self.relationships.get(path, {}).get(rel, "pick")


@cache
def generation_rules() -> GenerationRules:
    raw = json.loads(resources.files(__package__).joinpath("generation.json").read_text())
    return GenerationRules(
        owners={child: (entry["by"], entry["owner"]) for child, entry in raw["owners"].items()},
        resolve_order=tuple(raw["resolve_order"]),
        relationships=raw["relationships"],
        shared_attributes=raw["shared_attributes"],
        attributes=raw["attributes"],
    )


def check_rules(rules: GenerationRules, streams: dict[str, Stream]) -> None:
    """Raise ValueError naming every rule about a stream, relationship or attribute that the
    catalog does not have."""
    unknown = [
        f"owners.{child}"
        for child, (rel, parent) in rules.owners.items()
        if child not in streams or parent not in streams or rel not in streams[child].to_one
    ]
    for path, rels in rules.relationships.items():
        known = streams[path].to_one if path in streams else {}
        unknown += [f"relationships.{path}.{rel}" for rel in rels if rel not in known]
    for path, names in rules.attributes.items():
        known_attributes = streams[path].attributes if path in streams else {}
        unknown += [f"attributes.{path}.{name}" for name in names if name not in known_attributes]
    if unknown:
        raise ValueError(f"generation.json names what the catalog lacks: {', '.join(unknown)}")
