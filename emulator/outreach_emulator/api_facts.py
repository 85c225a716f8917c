"""What Outreach's OpenAPI says of each attribute and relationship, as ``api_facts.json`` holds it.

``tools/generate_emulator_facts.py`` derives the file from the published definition: per list
endpoint, each attribute's type, format, enumerated values and maximum length, whether it is
filterable, sortable or read-only, and the attributes of related records a relationship filter
takes. The API uses them to accept or refuse filters and sorts, the generator to make values
of the right kind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class AttributeFacts:
    kind: str | None  # the OpenAPI type: string, integer, number, boolean, array, object
    format: str | None = None  # date-time, date, email, float
    items: str | None = None  # an array's item format or type
    max_length: int | None = None
    enum: tuple[str, ...] | None = None
    filterable: bool = False
    sortable: bool = False
    readonly: bool = False

    @property
    def ordered(self) -> bool:
        """Values that ranges (``A..B``) and ``gt``/``lt`` compare."""
        return self.kind in ("integer", "number") or self.format in ("date-time", "date")


@dataclass(frozen=True)
class ResourceFacts:
    jsonapi_type: str
    attributes: dict[str, AttributeFacts]
    # relationship -> attributes of the related record it filters by (filter[rel][attr])
    relationship_filters: dict[str, tuple[str, ...]]


def _attribute(raw: dict[str, Any]) -> AttributeFacts:
    enum = raw.get("enum")
    return AttributeFacts(
        kind=raw.get("type"),
        format=raw.get("format"),
        items=raw.get("items"),
        max_length=raw.get("maxLength"),
        enum=tuple(enum) if enum else None,
        filterable=raw.get("filterable", False),
        sortable=raw.get("sortable", False),
        readonly=raw.get("readonly", False),
    )


@cache
def api_facts() -> dict[str, ResourceFacts]:
    """Facts by list endpoint path (``prospects``)."""
    raw = json.loads(resources.files(__package__).joinpath("api_facts.json").read_text())
    return {
        path: ResourceFacts(
            jsonapi_type=entry["type"],
            attributes={name: _attribute(a) for name, a in entry["attributes"].items()},
            relationship_filters={
                rel: tuple(names) for rel, names in entry["relationship_filters"].items()
            },
        )
        for path, entry in raw.items()
    }


def facts_of(path: str) -> ResourceFacts:
    """The facts of ``path``; an endpoint the definition lacks has none (nothing filterable)."""
    return api_facts().get(path) or ResourceFacts(path, {}, {})
