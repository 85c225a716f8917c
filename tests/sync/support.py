"""Helpers for sync tests: a settings object pointing at an emulator, and the comparison of
the landing with the emulator's data."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from outreach_emulator import Emulator
from outreach_pipeline.catalog import Stream, default_streams
from outreach_pipeline.landing import columns
from outreach_pipeline.settings import Settings


def settings_for(emu: Emulator, db_path: Path) -> Settings:
    return Settings(api_url=emu.api_url, duckdb_path=db_path)


_INT64 = (-(2**63), 2**63 - 1)


def _expected_value(value: Any, kind: str) -> Any:
    """What a column of type ``kind`` holds for the API's ``value``; TypeError or ValueError
    when the value does not fit the type, and so belongs in ``_extra``.

    The rule is outreach_pipeline/landing/records.py's, restated here rather than imported,
    so that a change to the converter cannot change the oracle along with it."""
    if value is None:
        return None
    if kind == "string" and type(value) is str:
        return value
    if kind == "integer" and type(value) is int and _INT64[0] <= value <= _INT64[1]:
        return value
    if kind == "number" and type(value) is float and math.isfinite(value):
        return value
    if kind == "number" and type(value) is int and abs(value) <= 2**53:
        return float(value)
    if kind == "boolean" and type(value) is bool:
        return value
    if kind == "timestamp" and type(value) is str:
        moment = datetime.fromisoformat(value)
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    if kind == "date" and type(value) is str:
        return date.fromisoformat(value)
    if (
        kind == "string_list"
        and type(value) is list
        and all(type(item) is str or item is None for item in value)
    ):
        return value
    if kind == "json":
        return orjson.loads(orjson.dumps(value))
    raise TypeError(f"{value!r} is not a {kind}")


def _stored_value(value: Any, kind: str) -> Any:
    if kind == "json" and value is not None:
        return orjson.loads(value)
    return value


def stored_rows(db_path: Path, stream: Stream) -> dict[int, dict[str, Any]]:
    """The landing's current (non-deleted) rows of ``stream``: data columns and ``_extra``."""
    cols = columns(stream)
    names = ", ".join(f'"{c.name}"' for c in cols)
    with duckdb.connect(str(db_path), read_only=True) as con:
        fetched = con.execute(
            f'SELECT id, _extra, {names} FROM outreach."{stream.table}" WHERE _deleted_at IS NULL'
        ).fetchall()
    rows = {}
    for row in fetched:
        stored = {c.name: _stored_value(v, c.type) for c, v in zip(cols, row[2:], strict=True)}
        stored["_extra"] = orjson.loads(row[1]) if row[1] else {}
        rows[row[0]] = stored
    return rows


def row_differences(stream: Stream, resource: dict[str, Any], stored: dict[str, Any]) -> dict:
    """Values of ``resource`` the stored row does not hold faithfully. A value that fits its
    attribute's type must be typed in its column and absent from ``_extra``; only one that does
    not fit may leave the column NULL, and then sits under its API name in ``_extra``, as do
    attributes the catalog does not know."""
    attributes = resource.get("attributes") or {}
    relationships = resource.get("relationships") or {}
    extra = stored["_extra"]
    differences: dict[str, Any] = {}
    for column in columns(stream):
        if column.source == "attribute":
            raw = attributes.get(column.api_name)
            held = stored[column.name]
            try:
                expected = _expected_value(raw, column.type)
            except (TypeError, ValueError):
                faithful = (
                    held is None and column.api_name in extra and extra[column.api_name] == raw
                )
            else:
                faithful = (
                    held == expected
                    and type(held) is type(expected)
                    and column.api_name not in extra
                )
            if not faithful:
                differences[column.name] = (raw, held, extra.get(column.api_name))
        else:
            data = (relationships.get(column.api_name) or {}).get("data")
            expected_id = data["id"] if data else None
            if isinstance(expected_id, str) and expected_id.isdigit():
                expected_id = int(expected_id)  # ids as strings are read as numbers
            if stored[column.name] != expected_id:
                differences[column.name] = (expected_id, stored[column.name])
    for name in attributes.keys() - stream.attributes.keys() - stream.withheld.keys():
        if extra.get(name) != attributes[name]:
            differences[f"_extra.{name}"] = (attributes[name], extra.get(name))
    for name in stream.withheld.keys() & extra.keys():
        differences[f"_extra.{name}"] = ("withheld", extra[name])
    return differences


def assert_landing_equals_emulator(
    emu: Emulator,
    db_path: Path,
    streams: Iterable[Stream] | None = None,
    org: str | None = None,
) -> None:
    """Every stream (default: those on by default), every id, every value: the landing holds
    exactly the data of the emulator's ``org`` (default: its default org)."""
    assert_landing_equals(emu.org(org).data.records, db_path, streams)


def assert_landing_equals(
    records_of: Callable[[str], list[dict[str, Any]]],
    db_path: Path,
    streams: Iterable[Stream] | None = None,
) -> None:
    """As :func:`assert_landing_equals_emulator`, with ``records_of(path)`` giving the
    API's current resources (e.g. read from an emulator in another process)."""
    for stream in streams if streams is not None else default_streams():
        resources = {int(r["id"]): r for r in records_of(stream.path)}
        stored = stored_rows(db_path, stream)
        missing = sorted(resources.keys() - stored.keys())
        extra = sorted(stored.keys() - resources.keys())
        assert not missing, f"{stream.path}: ids missing from the landing: {missing[:10]}"
        assert not extra, f"{stream.path}: ids in the landing but not the API: {extra[:10]}"
        for record_id, resource in resources.items():
            diff = row_differences(stream, resource, stored[record_id])
            assert not diff, f"{stream.path}/{record_id} differs (api, stored, in _extra): {diff}"


def prospect_versions(db_path: Path, record_id: int) -> list[tuple]:
    """``(valid_from, valid_to, stage_id, first_name)`` of each version of a prospect in
    ``outreach.prospects__history``, oldest first."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(
            "SELECT valid_from, valid_to, stage_id, first_name FROM outreach.prospects__history"
            " WHERE id = ? ORDER BY valid_from",
            [record_id],
        ).fetchall()
