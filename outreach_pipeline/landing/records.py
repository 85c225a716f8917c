"""JSON:API resources of one stream -> an Arrow table shaped like the stream's landing table.

Every value is stored faithfully or not at all in its column: a column is converted in bulk
by Arrow when all its values have the expected Python type, and value by value otherwise, in
which case a value that does not fit (a string in an integer attribute, an unreadable
timestamp, an integer beyond 64 bits) leaves the column NULL and goes to ``_extra`` under its
API name, together with attributes the catalog does not know.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from outreach_pipeline.catalog import AttributeType, Stream
from outreach_pipeline.landing.schema import Bridge, Column, bridges, columns

_INT64 = (-(2**63), 2**63 - 1)
_EXACT_FLOAT_INT = 2**53
_DECIMAL = re.compile(r"-?[0-9]{1,19}")
# The shapes Arrow casts in bulk. Arrow reads more (a bare date as midnight, year 0) than
# the value-by-value rule does, so anything else takes the slow path: whether a value fits
# must not depend on the other values of its column.
_BULK_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$"
_BULK_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class BadRecord(ValueError):
    """A resource that cannot be stored at all (no usable id, attributes not an object)."""


_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "string_list": pa.list_(pa.string()),
    "json": pa.string(),
    "id": pa.int64(),
}
_FAST_TYPES: dict[str, set[type]] = {
    "string": {str},
    "integer": {int},
    "number": {int, float},
    "boolean": {bool},
    "timestamp": {str},
    "date": {str},
    "string_list": {list},
}


def _timestamp(value: Any) -> datetime:
    if type(value) is not str:
        raise TypeError
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _date(value: Any) -> date:
    if type(value) is not str:
        raise TypeError
    return date.fromisoformat(value)


def _integer(value: Any) -> int:
    if type(value) is not int or not _INT64[0] <= value <= _INT64[1]:
        raise TypeError
    return value


def _number(value: Any) -> float:
    if type(value) is float and math.isfinite(value):
        return value
    if type(value) is int and abs(value) <= _EXACT_FLOAT_INT:
        return float(value)
    raise TypeError


def _exactly(kind: type) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise TypeError
        return value

    return check


def _string_list(value: Any) -> list[str | None]:
    if type(value) is not list or any(type(item) not in (str, type(None)) for item in value):
        raise TypeError
    return value


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        # orjson writes at most 255 levels of nesting but reads up to 1024: the standard
        # library writes what was read, as long as Python's recursion limit allows.
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except RecursionError:
            raise BadRecord("a value is nested too deeply to store") from None


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "string": _exactly(str),
    "integer": _integer,
    "number": _number,
    "boolean": _exactly(bool),
    "timestamp": _timestamp,
    "date": _date,
    "string_list": _string_list,
    "json": _json,
}


def _all_true(flags: pa.Array) -> bool:
    """Every non-null flag is true."""
    return pc.all(flags).as_py() is not False


def _fast_array(values: Sequence[Any], kind: AttributeType) -> pa.Array | None:
    """The column converted by Arrow in bulk, or None when it needs value-by-value care."""
    if kind == "json":
        return pa.array([None if v is None else _json(v) for v in values], pa.string())
    present = set(map(type, values))
    present.discard(type(None))
    if not present <= _FAST_TYPES[kind]:
        return None
    try:
        if kind in ("timestamp", "date"):
            text = pa.array(values, pa.string())
            shape = _BULK_TIMESTAMP if kind == "timestamp" else _BULK_DATE
            if not _all_true(pc.match_substring_regex(text, shape)) or not _all_true(
                pc.invert(pc.starts_with(text, "0000"))  # year 0: Python has no such year
            ):
                return None
            if kind == "date":
                return pc.cast(text, pa.date32())
            return pc.cast(pc.utf8_slice_codeunits(text, 0, -1), pa.timestamp("us"))
        if kind == "number" and int in present:
            return None
        return pa.array(values, _ARROW_TYPES[kind])
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None


def convert_column(values: Sequence[Any], kind: AttributeType) -> tuple[pa.Array, list[int]]:
    """Arrow array of ``values`` as ``kind``, and the rows whose value did not fit (NULL)."""
    fast = _fast_array(values, kind)
    if fast is not None:
        return fast, []
    convert = _CONVERTERS[kind]
    converted: list[Any] = []
    misfits: list[int] = []
    for row, value in enumerate(values):
        if value is None:
            converted.append(None)
            continue
        try:
            converted.append(convert(value))
        except (TypeError, ValueError, OverflowError):
            converted.append(None)
            misfits.append(row)
    return pa.array(converted, _ARROW_TYPES[kind]), misfits


def record_id(raw: Any) -> int:
    """Outreach ids are integers; a numeric string (``"12"``) is read as one."""
    value = int(raw) if type(raw) is str and _DECIMAL.fullmatch(raw) else raw
    if type(value) is not int or not _INT64[0] <= value <= _INT64[1]:
        raise BadRecord(f"resource id {raw!r} is not a 64-bit integer")
    return value


def _linked_id(relationship: Any) -> Any:
    """The id in ``{"data": {"type", "id"}}``; None for ``{"data": null}`` or no data."""
    if not isinstance(relationship, dict):
        return None
    data = relationship.get("data")
    return data.get("id") if isinstance(data, dict) else None


class RecordConverter:
    """Turns pages of one stream's resources into Arrow tables for the landing table."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.columns: list[Column] = columns(stream)
        # Withheld attributes (secrets) count as known, so they stay out of ``_extra`` too.
        self._known_attributes = frozenset([*stream.attributes, *stream.withheld])
        self._attribute_names = [c.api_name for c in self.columns if c.source == "attribute"]
        self._known_relationships = frozenset([*stream.to_one, *stream.to_many, *stream.links_only])
        self.bridges: list[Bridge] = bridges(stream)
        self.schema = pa.schema(
            [pa.field("id", pa.int64())]
            + [pa.field(c.name, _ARROW_TYPES[c.type]) for c in self.columns]
            + [pa.field("_extra", pa.string()), pa.field("_synced_at", pa.timestamp("us"))]
            + [pa.field(b.batch_column, pa.list_(pa.int64())) for b in self.bridges]
        )

    def convert(self, resources: list[dict[str, Any]], synced_at: datetime) -> pa.Table:
        """One row per distinct id (the last occurrence wins), typed as the landing table."""
        by_id: dict[int, dict[str, Any]] = {}
        for resource in resources:
            by_id[record_id(resource.get("id"))] = resource
        unique = list(by_id.values())
        attributes = [self._attributes(r) for r in unique]
        relationships = [r.get("relationships") or {} for r in unique]
        extras: list[dict[str, Any] | None] = [None] * len(unique)

        arrays: list[pa.Array] = [pa.array(list(by_id), pa.int64())]
        attribute_values = iter(_transposed(attributes, self._attribute_names))
        for column in self.columns:
            if column.source == "attribute":
                values = next(attribute_values)
                array, misfits = convert_column(values, column.type)  # type: ignore[arg-type]
            else:
                values = [_linked_id(r.get(column.api_name)) for r in relationships]
                array, misfits = convert_column(values, "integer")
                array = self._linked_ids(values, array, misfits, extras, column.api_name)
                misfits = []
            for row in misfits:
                extras[row] = {**(extras[row] or {}), column.api_name: values[row]}
            arrays.append(array)

        for row, attrs in enumerate(attributes):
            unknown = attrs.keys() - self._known_attributes
            if unknown:
                extras[row] = {**(extras[row] or {}), **{k: attrs[k] for k in unknown}}
        for row, rels in enumerate(relationships):
            self._unknown_relationships(row, rels, extras)
        bridge_arrays = [
            self._linked_id_lists(relationships, b.relationship, extras) for b in self.bridges
        ]

        arrays.append(pa.array([None if e is None else _json(e) for e in extras], pa.string()))
        arrays.append(pa.array([synced_at] * len(unique), pa.timestamp("us")))
        arrays += bridge_arrays
        return pa.Table.from_arrays(arrays, schema=self.schema)

    @staticmethod
    def _attributes(resource: dict[str, Any]) -> dict[str, Any]:
        attributes = resource.get("attributes")
        if attributes is None:
            return {}
        if not isinstance(attributes, dict):
            raise BadRecord(
                f"resource {resource.get('id')!r} has attributes that are not an object"
            )
        return attributes

    @staticmethod
    def _linked_ids(
        values: list[Any],
        array: pa.Array,
        misfits: list[int],
        extras: list[dict[str, Any] | None],
        name: str,
    ) -> pa.Array:
        """Relationship ids given as numeric strings are read as integers; others go to
        ``_extra["relationships"]``."""
        if not misfits:
            return array
        fixed = array.to_pylist()
        for row in misfits:
            try:
                fixed[row] = record_id(values[row])
            except BadRecord:
                linked = {**((extras[row] or {}).get("relationships") or {}), name: values[row]}
                extras[row] = {**(extras[row] or {}), "relationships": linked}
        return pa.array(fixed, pa.int64())

    @staticmethod
    def _linked_id_lists(
        relationships: list[Any], name: str, extras: list[dict[str, Any] | None]
    ) -> pa.Array:
        """Each row's distinct ids of the to-many relationship ``name`` (NULL when the resource
        gave no ``data`` list for it); ids that are not integers go to
        ``_extra["relationships"][name]``."""
        lists: list[list[int] | None] = []
        for row, rels in enumerate(relationships):
            data = rels.get(name) if isinstance(rels, dict) else None
            data = data.get("data") if isinstance(data, dict) else None
            if not isinstance(data, list):
                lists.append(None)
                continue
            ids: dict[int, None] = {}
            unreadable = []
            for item in data:
                raw = item.get("id") if isinstance(item, dict) else item
                try:
                    ids[record_id(raw)] = None
                except BadRecord:
                    unreadable.append(raw)
            if unreadable:
                linked = {**((extras[row] or {}).get("relationships") or {}), name: unreadable}
                extras[row] = {**(extras[row] or {}), "relationships": linked}
            lists.append(list(ids))
        return pa.array(lists, pa.list_(pa.int64()))

    def _unknown_relationships(
        self, row: int, relationships: Any, extras: list[dict[str, Any] | None]
    ) -> None:
        if not isinstance(relationships, dict):
            return
        unknown = relationships.keys() - self._known_relationships
        if not unknown:
            return
        linked = {**((extras[row] or {}).get("relationships") or {})}
        for name in sorted(unknown):
            target = _linked_id(relationships[name])
            if target is not None:
                linked[name] = target
        if linked:
            extras[row] = {**(extras[row] or {}), "relationships": linked}


def _transposed(records: list[dict[str, Any]], names: list[str]) -> list[Sequence[Any]]:
    """The values of ``names`` column by column (None where a record lacks one).

    When every record carries every name, as API pages do, ``itemgetter`` and ``zip`` do the
    work in C, several times faster than one ``dict.get`` per value."""
    if not names:
        return []
    if len(names) > 1 and records:
        getter = itemgetter(*names)
        try:
            return list(zip(*[getter(r) for r in records], strict=True))
        except KeyError:
            pass
    return [[r.get(name) for r in records] for name in names]


def cursor_max(table: pa.Table, column: str) -> datetime | None:
    """The largest value of a timestamp column (the stream's cursor), None when empty."""
    if table.num_rows == 0:
        return None
    value = pc.max(table.column(column)).as_py()
    return value if isinstance(value, datetime) else None


def format_cursor(moment: datetime) -> str:
    """Outreach's timestamp form, ``2025-10-21T22:54:57.000Z`` (floored to milliseconds, so
    an inclusive ``filter[updatedAt]`` from it never skips the record it came from)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
