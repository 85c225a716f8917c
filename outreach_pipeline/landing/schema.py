"""Table layout of each stream, derived from the catalog: column names, DuckDB types, DDL.

Column names:

- ``id`` (BIGINT primary key);
- each catalog attribute as ``snake_case(name)``;
- each to-one relationship as ``snake_case(name) + "_id"``;
- when an attribute's name collides with a relationship column or a bookkeeping column
  (``mailboxes``: attribute ``userId`` and relationship ``user`` are both ``user_id``), the
  relationship keeps ``<rel>_id`` and the attribute becomes ``<attr>_attr``;
- ``_extra`` (JSON): attributes the catalog does not know, and values whose type does not
  fit their column, under their API names; unknown to-one relationships under
  ``"relationships"``;
- ``_synced_at`` (when the row was last written) and ``_deleted_at`` (set by the delete sweep).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from outreach_pipeline.catalog import SCHEMA, AttributeType, Stream, snake_case

BOOKKEEPING = ("_extra", "_synced_at", "_deleted_at")

DUCKDB_TYPES: dict[AttributeType, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "string_list": "VARCHAR[]",
    "json": "JSON",
}


@dataclass(frozen=True)
class Column:
    """One data column: where its value comes from in a resource and how it is stored."""

    name: str
    source: Literal["attribute", "relationship"]
    api_name: str
    type: AttributeType | Literal["id"]

    @property
    def sql_type(self) -> str:
        return "BIGINT" if self.type == "id" else DUCKDB_TYPES[self.type]


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def table_name(stream: Stream) -> str:
    """``outreach.<snake_case path>``, quoted, for use in SQL."""
    return f"{SCHEMA}.{quote(stream.table)}"


def columns(stream: Stream) -> list[Column]:
    """The data columns of ``stream``'s table, after ``id``, in a stable order."""
    relationships = [
        Column(snake_case(rel) + "_id", "relationship", rel, "id") for rel in stream.to_one
    ]
    taken = {"id", *BOOKKEEPING, *(c.name for c in relationships)}
    attributes = []
    for name, kind in stream.attributes.items():
        column = snake_case(name)
        if column in taken:
            column += "_attr"
        taken.add(column)
        attributes.append(Column(column, "attribute", name, kind))
    return attributes + relationships


# Arrow column of a converted batch holding one to-many relationship's ids (a list per row,
# NULL when the resource gave no ``data`` for it); written to the bridge table, not the row.
BRIDGE_PREFIX = "__to_many__"


@dataclass(frozen=True)
class Bridge:
    """The table of one to-many relationship: ``outreach.<stream>__<relationship>``."""

    relationship: str
    table: str
    parent_column: str
    target_column: str

    @property
    def qualified(self) -> str:
        return f"{SCHEMA}.{quote(self.table)}"

    @property
    def batch_column(self) -> str:
        return BRIDGE_PREFIX + self.relationship


def bridges(stream: Stream) -> list[Bridge]:
    """One bridge per to-many relationship that the API returns with ``data``.

    Columns: ``snake_case(parent type) + "_id"`` and ``snake_case(target type) + "_id"``
    (the target's gets the prefix ``related_`` when both types are the same)."""
    parent = snake_case(stream.jsonapi_type) + "_id"
    found = []
    for rel, target_type in stream.to_many.items():
        target = snake_case(target_type) + "_id"
        if target == parent:
            target = "related_" + target
        found.append(Bridge(rel, f"{stream.table}__{snake_case(rel)}", parent, target))
    return found


def create_bridge_sql(bridge: Bridge) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {bridge.qualified} (\n"
        f"  {quote(bridge.parent_column)} BIGINT NOT NULL,\n"
        f"  {quote(bridge.target_column)} BIGINT NOT NULL\n)"
    )


def bridge_view_sql(stream: Stream, bridge: Bridge) -> str:
    """A view in the main schema with the bridge rows of current (non-deleted) parents."""
    return (
        f"CREATE OR REPLACE VIEW main.{quote(bridge.table)} AS "
        f"SELECT * FROM {bridge.qualified} WHERE {quote(bridge.parent_column)} IN "
        f"(SELECT id FROM {table_name(stream)} WHERE _deleted_at IS NULL)"
    )


def history_table_name(stream: Stream) -> str:
    """``outreach.<table>__history``, quoted: one row per observed version (SCD type 2)."""
    return f"{SCHEMA}.{quote(stream.table + '__history')}"


def version_column(stream: Stream) -> str | None:
    """The column a version is known by (``updated_at``), None when the stream has none."""
    return next(
        (c.name for c in columns(stream) if c.source == "attribute" and c.api_name == "updatedAt"),
        None,
    )


def create_history_sql(stream: Stream) -> str:
    body = ["id BIGINT NOT NULL", "valid_from TIMESTAMP NOT NULL", "valid_to TIMESTAMP"]
    body += [f"{quote(c.name)} {c.sql_type}" for c in columns(stream)]
    body += ["_extra JSON", "_synced_at TIMESTAMP NOT NULL"]
    return (
        f"CREATE TABLE IF NOT EXISTS {history_table_name(stream)} (\n  "
        + ",\n  ".join(body)
        + "\n)"
    )


def create_table_sql(stream: Stream, name: str | None = None) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for the stream (or a same-shaped table ``name``)."""
    body = ["id BIGINT PRIMARY KEY"]
    body += [f"{quote(c.name)} {c.sql_type}" for c in columns(stream)]
    body += ["_extra JSON", "_synced_at TIMESTAMP NOT NULL", "_deleted_at TIMESTAMP"]
    target = name or table_name(stream)
    return f"CREATE TABLE IF NOT EXISTS {target} (\n  " + ",\n  ".join(body) + "\n)"


def view_sql(stream: Stream) -> str:
    """A view in the main schema holding the current, non-deleted rows."""
    return (
        f"CREATE OR REPLACE VIEW main.{quote(stream.table)} AS "
        f"SELECT * EXCLUDE (_deleted_at) FROM {table_name(stream)} WHERE _deleted_at IS NULL"
    )


SYNC_STATE_SQL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}._sync_state (
  stream VARCHAR PRIMARY KEY,
  cursor VARCHAR,
  resume_url VARCHAR,
  resume_more VARCHAR,
  resume_cursor VARCHAR,
  last_swept_at TIMESTAMP,
  page_size INTEGER,
  updated_at TIMESTAMP NOT NULL
)"""
# Columns _sync_state gained after databases were created without them.
SYNC_STATE_ADDED = {"page_size": "INTEGER", "resume_more": "VARCHAR"}

SYNC_RUNS_SQL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.sync_runs (
  run_id VARCHAR NOT NULL,
  stream VARCHAR NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP NOT NULL,
  full_refresh BOOLEAN NOT NULL,
  swept_deletes BOOLEAN NOT NULL,
  records_inserted BIGINT NOT NULL,
  records_updated BIGINT NOT NULL,
  records_deleted BIGINT NOT NULL,
  requests BIGINT NOT NULL,
  pages BIGINT NOT NULL,
  duration_s DOUBLE NOT NULL,
  cursor_before VARCHAR,
  cursor_after VARCHAR,
  rate_limit_remaining BIGINT,
  error VARCHAR
)"""

# Columns ``sync_runs`` gained after databases already existed: added by ``ensure_schema`` to
# new and old files alike (so both have the same layout), with a default for the old rows.
SYNC_RUNS_ADDED = {"records_refetched": "BIGINT DEFAULT 0", "chains": "INTEGER DEFAULT 1"}
