"""Generated values agree with the OpenAPI: type, enumerated values, format and length.

A schema learned from emulator data (column types, enum checks) must also hold for real data.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from outreach_emulator import Emulator
from outreach_emulator.api_facts import AttributeFacts, facts_of
from outreach_pipeline.catalog import catalog
from tests.emulator.support import api_client

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def contradictions(name: str, value: Any, facts: AttributeFacts) -> list[str]:
    """How ``value`` contradicts what the definition says of attribute ``name``."""
    if value is None or facts.kind is None:
        return []
    expected = _PYTHON_TYPES[facts.kind]
    if not isinstance(value, expected) or (facts.kind != "boolean" and isinstance(value, bool)):
        return [f"{name}={value!r} is not {facts.kind}"]
    found = []
    if facts.enum is not None:
        if value not in facts.enum:
            found.append(f"{name}={value!r} is not one of {facts.enum}")
    # An enumerated value longer than maxLength is the definition contradicting itself
    # (sequence.primaryReplyAction: "continue", maxLength 4): the enumeration wins.
    elif facts.max_length is not None and isinstance(value, str) and len(value) > facts.max_length:
        found.append(f"{name}={value!r} is longer than {facts.max_length}")
    if facts.format == "date-time":
        datetime.fromisoformat(value)
    elif facts.format == "date":
        date.fromisoformat(value)
    elif facts.format == "email" and "@" not in value:
        found.append(f"{name}={value!r} is not an email address")
    if facts.items == "email" and not all("@" in item for item in value):
        found.append(f"{name}={value!r} holds a non-address")
    return found


@pytest.mark.parametrize("path", sorted(catalog()))
def test_values_respect_the_definition(emulator: Emulator, path: str) -> None:
    facts = facts_of(path).attributes
    with api_client(emulator) as client:
        records = client.get(f"/{path}", params={"page[size]": 200}).json()["data"]
    found = [
        problem
        for record in records
        for name, value in record["attributes"].items()
        if name in facts
        for problem in contradictions(name, value, facts[name])
    ]
    assert not found, sorted(set(found))[:20]


def test_the_examples_of_the_issue_hold(emulator: Emulator) -> None:
    with api_client(emulator) as client:

        def values(path: str, name: str) -> set[Any]:
            page = client.get(f"/{path}", params={"page[size]": 100}).json()["data"]
            return {r["attributes"][name] for r in page} - {None}

        assert all(isinstance(v, int) for v in values("taskPriorities", "color"))
        assert values("sequences", "primaryReplyAction") <= {"finish", "continue", "pause"}
        assert all(len(v) <= 2 for v in values("users", "phoneCountryCode"))
        assert all(float(v) >= 0 for v in values("opportunities", "amountPrecise"))


def test_every_catalog_stream_has_facts() -> None:
    assert {path for path in catalog() if not facts_of(path).attributes} == set()
