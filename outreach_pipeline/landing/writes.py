"""Bulk writes of Arrow batches: upsert by id, replace a whole table, mark sweep results.

An upsert deletes the batch's ids and inserts the batch (measured 50x faster in DuckDB 2.0
than ``MERGE`` or ``ON CONFLICT`` on wide tables with list columns). Callers run these inside
:meth:`Database.transaction` together with the stream's state.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from outreach_pipeline.catalog import Stream
from outreach_pipeline.landing.schema import (
    BRIDGE_PREFIX,
    SCHEMA,
    bridges,
    create_table_sql,
    quote,
    table_name,
)

_names = itertools.count()


@dataclass(frozen=True)
class WriteCounts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


def _register(con: duckdb.DuckDBPyConnection, table: pa.Table) -> str:
    name = f"_batch_{next(_names)}"
    con.register(name, table)
    return name


def _insert(con: duckdb.DuckDBPyConnection, target: str, batch: str, table: pa.Table) -> None:
    names = ", ".join(quote(n) for n in table.column_names if not n.startswith(BRIDGE_PREFIX))
    con.execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM {batch}")


def upsert(con: duckdb.DuckDBPyConnection, stream: Stream, table: pa.Table) -> WriteCounts:
    """Insert or replace rows by id (ids in ``table`` are distinct)."""
    if table.num_rows == 0:
        return WriteCounts()
    target = table_name(stream)
    batch = _register(con, table)
    try:
        row = con.execute(
            f"SELECT count(*) FROM {target} WHERE id IN (SELECT id FROM {batch})"
        ).fetchone()
        existing = int(row[0]) if row else 0
        if existing:
            con.execute(f"DELETE FROM {target} WHERE id IN (SELECT id FROM {batch})")
        _insert(con, target, batch, table)
        _replace_bridges(con, stream, batch, table)
    finally:
        con.unregister(batch)
    return WriteCounts(inserted=table.num_rows - existing, updated=existing)


def _replace_bridges(
    con: duckdb.DuckDBPyConnection, stream: Stream, batch: str, table: pa.Table
) -> None:
    """Each parent's rows of each to-many relationship it was given with ``data`` are
    replaced by the ids given, so removed links disappear; relationships given without
    ``data`` (NULL in the batch) keep what was there."""
    for bridge in bridges(stream):
        if bridge.batch_column not in table.column_names:
            continue
        given = f"FROM {batch} WHERE {quote(bridge.batch_column)} IS NOT NULL"
        parent, target = quote(bridge.parent_column), quote(bridge.target_column)
        con.execute(f"DELETE FROM {bridge.qualified} WHERE {parent} IN (SELECT id {given})")
        con.execute(
            f"INSERT INTO {bridge.qualified} ({parent}, {target}) "
            f"SELECT id, unnest({quote(bridge.batch_column)}) {given}"
        )


def stage_name(stream: Stream) -> str:
    return f"{SCHEMA}.{quote('_stage_' + stream.table)}"


def reset_stage(con: duckdb.DuckDBPyConnection, stream: Stream) -> None:
    """An empty staging table for a full-sync stream (a crashed run's leftovers dropped)."""
    con.execute(f"DROP TABLE IF EXISTS {stage_name(stream)}")
    con.execute(create_table_sql(stream, stage_name(stream)))


def stage(con: duckdb.DuckDBPyConnection, stream: Stream, table: pa.Table) -> None:
    """Add a batch to the staging table (ids repeated across pages: the newest wins)."""
    if table.num_rows == 0:
        return
    target = stage_name(stream)
    batch = _register(con, table)
    try:
        con.execute(f"DELETE FROM {target} WHERE id IN (SELECT id FROM {batch})")
        _insert(con, target, batch, table)
    finally:
        con.unregister(batch)


def replace_from_stage(con: duckdb.DuckDBPyConnection, stream: Stream) -> WriteCounts:
    """Swap the staged rows in as the table's whole content, in the caller's transaction."""
    target, staged = table_name(stream), stage_name(stream)
    row = con.execute(
        f"SELECT (SELECT count(*) FROM {staged} WHERE id NOT IN (SELECT id FROM {target})),"
        f" (SELECT count(*) FROM {staged} WHERE id IN (SELECT id FROM {target})),"
        f" (SELECT count(*) FROM {target} WHERE id NOT IN (SELECT id FROM {staged}))"
    ).fetchone()
    inserted, updated, deleted = row if row else (0, 0, 0)
    con.execute(f"DELETE FROM {target}")
    con.execute(f"INSERT INTO {target} SELECT * FROM {staged}")
    con.execute(f"DROP TABLE {staged}")
    return WriteCounts(inserted=inserted, updated=updated, deleted=deleted)


def mark_deleted(con: duckdb.DuckDBPyConnection, stream: Stream, live_ids: pa.Table) -> WriteCounts:
    """Rows whose id the API no longer lists get ``_deleted_at``; listed ones lose it.

    ``deleted`` counts rows newly marked, ``updated`` rows brought back."""
    target = table_name(stream)
    batch = _register(con, live_ids)
    try:
        marked = con.execute(
            f"UPDATE {target} SET _deleted_at = now()::TIMESTAMP "
            f"WHERE _deleted_at IS NULL AND id NOT IN (SELECT id FROM {batch})"
        ).fetchone()
        restored = con.execute(
            f"UPDATE {target} SET _deleted_at = NULL "
            f"WHERE _deleted_at IS NOT NULL AND id IN (SELECT id FROM {batch})"
        ).fetchone()
    finally:
        con.unregister(batch)
    return WriteCounts(
        deleted=int(marked[0]) if marked else 0, updated=int(restored[0]) if restored else 0
    )
