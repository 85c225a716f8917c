"""Property-based tests of the document parser and the record conversion."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pyarrow as pa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from outreach_pipeline.catalog import stream
from outreach_pipeline.client import MalformedDocument, parse_document
from outreach_pipeline.landing import BadRecord, RecordConverter, convert_column
from tests.sync.support import row_differences

STREAM = stream("prospects")
TYPES = {name: kind for name, kind in STREAM.attributes.items()}
text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=10,
)
timestamps = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.isoformat(timespec="milliseconds").replace("+00:00", "Z"))


def value_for(kind: str) -> st.SearchStrategy:
    typed = {
        "string": text,
        "integer": st.integers(-(2**63), 2**63 - 1),
        "number": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**40), 2**40),
        "boolean": st.booleans(),
        "timestamp": timestamps,
        "date": st.dates().map(lambda d: d.isoformat()),
        "string_list": st.lists(text, max_size=3),
        "json": json_values,
    }[kind]
    return st.none() | typed | json_values


names = st.sampled_from(sorted(TYPES))
attributes = st.dictionaries(names, st.none(), max_size=12).flatmap(
    lambda chosen: st.fixed_dictionaries({n: value_for(TYPES[n]) for n in chosen})
) | st.dictionaries(text, json_values, max_size=4)
relationships = st.dictionaries(
    st.sampled_from(sorted(STREAM.to_one)),
    st.one_of(
        st.just({"data": None}),
        st.integers(1, 10**9).map(lambda i: {"data": {"type": "x", "id": i}}),
        st.integers(1, 10**9).map(lambda i: {"data": {"type": "x", "id": str(i)}}),
    ),
    max_size=3,
)
resources = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.just("prospect"),
            "id": st.integers(1, 50),
            "attributes": attributes,
            "relationships": relationships,
        }
    ),
    max_size=8,
)


def stored_row(table: pa.Table, row: int, converter: RecordConverter) -> dict:
    values = table.slice(row, 1).to_pylist()[0]
    for column in converter.columns:
        if column.type == "json" and values[column.name] is not None:
            values[column.name] = orjson.loads(values[column.name])
    values["_extra"] = orjson.loads(values["_extra"]) if values["_extra"] else {}
    return values


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(resources)
def test_every_value_lands_typed_or_in_extra(batch):
    converter = RecordConverter(STREAM)
    table = converter.convert(batch, datetime(2026, 1, 1))
    last = {r["id"]: r for r in batch}
    assert table.column("id").to_pylist() == list(last)
    for row, resource in enumerate(last.values()):
        stored = stored_row(table, row, converter)
        assert row_differences(STREAM, resource, stored) == {}


iso_like = st.from_regex(
    r"[+-]?0{0,2}[0-9]{1,4}-?[0-9]{1,2}(-?[0-9]{1,2})?"
    r"([Tt ][0-9]{1,2}(:?[0-9]{2}(:?[0-9]{2}([.,][0-9]{0,8})?)?)?)?([+-][0-9]{2}(:?[0-9]{2})?)?Z?",
    fullmatch=True,
)
kinds = st.sampled_from(sorted(set(TYPES.values()) - {"json"}))


@settings(max_examples=300, deadline=None)
@example(("timestamp", "2020-01-01Z"))  # Arrow read a bare date as midnight
@example(("timestamp", "0000-01-01T00:00:00Z"))  # and year 0, which Python has not
@example(("date", "0000-01-01"))
@example(("string_list", [None]))
@given(kinds.flatmap(lambda kind: st.tuples(st.just(kind), value_for(kind) | iso_like)))
def test_whether_a_value_fits_does_not_depend_on_its_column(case):
    """A column is converted in bulk or value by value: either way a value lands the same
    (a dict, which fits no such kind, sends the column value by value)."""
    kind, value = case
    alone, alone_misfits = convert_column([value], kind)
    beside, beside_misfits = convert_column([value, {"not": "a value"}], kind)
    assert (0 in alone_misfits) == (0 in beside_misfits)
    assert alone.slice(0, 1).equals(beside.slice(0, 1))


@given(st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_raise_malformed(body):
    try:
        document = parse_document(body)
    except MalformedDocument:
        return
    assert isinstance(document.resources, list)


int64 = st.integers(-(2**63), 2**63 - 1)


@given(st.lists(st.fixed_dictionaries({"id": int64 | text}), max_size=5), st.none() | text)
def test_documents_round_trip(data, next_url):
    body = orjson.dumps({"data": data, "links": {"next": next_url}})
    document = parse_document(body)
    assert document.resources == data
    assert document.next_url == (next_url or None)


@given(int64 | text | st.none() | st.booleans())
def test_ids_are_integers_or_refused(raw):
    converter = RecordConverter(stream("users"))
    try:
        table = converter.convert([{"id": raw}], datetime(2026, 1, 1))
    except BadRecord:
        assert type(raw) is not int
        return
    assert table.column("id").to_pylist() == [int(raw)]
    assert type(raw) is int or raw.lstrip("-").isascii()
