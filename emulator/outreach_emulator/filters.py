"""``filter[...]`` and ``sort`` of a listing, read into a :class:`Selection` by what the OpenAPI
marks filterable and sortable.

Semantics (Outreach's documentation and the fact sheet): ``filter[a]=x`` matches equal values,
``filter[a]=x,y`` any of them (an array attribute matches when it holds one of them);
ordered attributes (numbers, timestamps, dates) take ranges ``A..B``, inclusive, with ``neginf``
and ``inf`` (or nothing) for an open end, and with ``newFilterSyntax`` the operators
``[gte]``, ``[gt]``, ``[lte]``, ``[lt]``; ``filter[rel][attr]=x`` keeps records related to one
whose ``attr`` matches, for the attributes the definition names on that relationship.
id, createdAt and updatedAt are always accepted: connectors page every stream by them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from outreach_emulator.api_facts import AttributeFacts, facts_of
from outreach_emulator.clock import iso_ms
from outreach_emulator.data import INDEXED, RecordStore, Selection
from outreach_pipeline.catalog import Stream

_OPERATORS = {"gte": 0, "gt": 0, "lte": 1, "lt": 1}
_OPEN = {"", "inf", "neginf"}


class BadQuery(Exception):
    """A query the API refuses with 422 ``validationError``; carries the offending parameter."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(detail)
        self.parameter = parameter
        self.detail = detail


def _known(stream: Stream, name: str) -> bool:
    return name == "id" or name in stream.attributes


def _facts(stream: Stream, name: str) -> AttributeFacts:
    if name == "id":
        return AttributeFacts("integer", filterable=True, sortable=True)
    return facts_of(stream.path).attributes.get(name) or AttributeFacts(None)


def sortable(stream: Stream, name: str) -> bool:
    return _known(stream, name) and (name in INDEXED or _facts(stream, name).sortable)


def filterable(stream: Stream, name: str) -> bool:
    return _known(stream, name) and (name in INDEXED or _facts(stream, name).filterable)


def apply_sort(selection: Selection, stream: Stream, sort: str) -> None:
    primary, *tie_breakers = sort.split(",")
    selection.descending = primary.startswith("-")
    selection.sort_field = primary.lstrip("-")
    # Ties are always broken by id, so "updatedAt,id" means the same as "updatedAt".
    if not sortable(stream, selection.sort_field) or any(
        key.lstrip("-") != "id" for key in tie_breakers
    ):
        raise BadQuery("sort", f"{stream.path} cannot be sorted by {sort!r}.")


def typed(facts: AttributeFacts, name: str, text: str) -> Any:
    """A filter value as the attribute's values compare (ValueError if it is not one)."""
    if name == "id" or facts.kind == "integer":
        return int(text)
    if facts.kind == "number":
        return float(text)
    if facts.kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError(text)
        return text == "true"
    if facts.format == "date-time":
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        milliseconds = int(moment.timestamp() * 1000)
        return milliseconds if name in INDEXED else iso_ms(milliseconds)
    if facts.format == "date":
        return datetime.strptime(text, "%Y-%m-%d").date().isoformat()
    return text


def apply_filter(
    selection: Selection,
    store: RecordStore,
    stream: Stream,
    key: str,
    name: str,
    operator: str | None,
    value: str,
) -> None:
    if name in stream.to_one or name in stream.to_many:
        _relationship(selection, store, stream, key, name, operator or "", value)
        return
    if not filterable(stream, name):
        raise BadQuery(key, f"{stream.path} cannot be filtered by {name!r}.")
    facts = _facts(stream, name)
    if operator is not None and operator not in _OPERATORS:
        raise BadQuery(key, f"Unknown filter operator {operator!r}.")
    try:
        if operator is not None or (".." in value and facts.ordered):
            _range(selection, facts, name, operator, value)
        else:
            _listed(selection, facts, name, value)
    except ValueError as error:
        raise BadQuery(key, f"Cannot read {value!r} as a value of {name}.") from error


def _range(
    selection: Selection, facts: AttributeFacts, name: str, operator: str | None, value: str
) -> None:
    if not facts.ordered:
        raise ValueError(value)
    low, high = selection.ranges.get(name, (None, None))
    if operator is None:
        first, _, last = value.partition("..")
        low = None if first in _OPEN else typed(facts, name, first)
        high = None if last in _OPEN else typed(facts, name, last)
    else:
        bound = typed(facts, name, value)
        strict = operator in ("gt", "lt")
        if _OPERATORS[operator] == 0:
            low = bound + 1 if strict and isinstance(bound, int) else bound
        else:
            high = bound - 1 if strict and isinstance(bound, int) else bound
    selection.ranges[name] = (low, high)


def _listed(selection: Selection, facts: AttributeFacts, name: str, value: str) -> None:
    wanted = frozenset(typed(facts, name, item) for item in value.split(","))
    if name == "id":
        selection.ids = wanted if selection.ids is None else selection.ids & wanted
    elif name in INDEXED:
        # createdAt/updatedAt equality: a range of one instant on the indexed arrays.
        if len(wanted) != 1:
            raise ValueError(value)
        (instant,) = wanted
        selection.ranges[name] = (instant, instant)
    elif facts.kind == "array":
        selection.tests[name] = lambda held: bool(held) and not wanted.isdisjoint(held)
    else:
        selection.tests[name] = lambda held: held in wanted


def _relationship(
    selection: Selection,
    store: RecordStore,
    stream: Stream,
    key: str,
    rel: str,
    attribute: str,
    value: str,
) -> None:
    """``filter[rel][attribute]=value``: records related to a record that matches."""
    documented = facts_of(stream.path).relationship_filters.get(rel)
    # A to-one relationship the definition says nothing of takes ids, as the fact sheet says.
    allowed = documented if documented is not None else ("id",) * (rel in stream.to_one)
    if attribute not in allowed:
        raise BadQuery(key, f"{stream.path} cannot be filtered by {rel}.{attribute or '?'}.")
    target_type = stream.to_one.get(rel) or stream.to_many[rel]
    target_path = store.path_of_type.get(target_type)
    if attribute == "id":
        try:
            targets = frozenset(int(v) for v in value.split(","))
        except ValueError as error:
            raise BadQuery(key, f"filter[{rel}][id] takes integer ids.") from error
    elif target_path is None:
        raise BadQuery(key, f"{target_type} records are not served here.")
    else:
        target_stream = store.streams[target_path]
        inner = Selection(size=1, sort_field="")
        apply_filter(inner, store, target_stream, key, attribute, None, value)
        targets = frozenset(store.matching_ids(target_path, inner))
    related = store.related_ids(stream.path, rel, targets)
    selection.ids = related if selection.ids is None else selection.ids & related
