"""Bulk writes of Arrow batches: upsert by id, replace a whole table, mark sweep results.

An upsert deletes the batch's ids and inserts the batch (measured 50x faster in DuckDB 2.0
than ``MERGE`` or ``ON CONFLICT`` on wide tables with list columns). Callers run these inside
:meth:`Database.transaction` together with the stream's state.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from outreach_pipeline.catalog import Stream
from outreach_pipeline.landing.registered import registered
from outreach_pipeline.landing.schema import (
    BRIDGE_PREFIX,
    SCHEMA,
    bridges,
    create_history_sql,
    create_table_sql,
    history_table_name,
    quote,
    table_name,
    version_column,
)


@dataclass(frozen=True)
class WriteCounts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


def _insert(con: duckdb.DuckDBPyConnection, target: str, batch: str, table: pa.Table) -> None:
    names = ", ".join(quote(n) for n in table.column_names if not n.startswith(BRIDGE_PREFIX))
    con.execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM {batch}")


def upsert(
    con: duckdb.DuckDBPyConnection, stream: Stream, table: pa.Table, *, history: bool = False
) -> WriteCounts:
    """Insert or replace rows by id (ids in ``table`` are distinct); with ``history``, also
    add each row's version to ``<table>__history`` unless that version is already there."""
    if table.num_rows == 0:
        return WriteCounts()
    target = table_name(stream)
    with registered(con, table) as batch:
        row = con.execute(
            f"SELECT count(*) FROM {target} WHERE id IN (SELECT id FROM {batch})"
        ).fetchone()
        existing = int(row[0]) if row else 0
        if existing:
            con.execute(f"DELETE FROM {target} WHERE id IN (SELECT id FROM {batch})")
        _insert(con, target, batch, table)
        # Bridge and history rows exist only for ids the table holds: for a batch of new ids
        # (every batch of a first load) there is nothing there to replace or chain, and
        # looking for it scanned those tables, a cost that grew with them batch by batch.
        _replace_bridges(con, stream, batch, table, new_ids=not existing)
        if history:
            _add_versions(con, stream, batch, table, new_ids=not existing)
    return WriteCounts(inserted=table.num_rows - existing, updated=existing)


def _replace_bridges(
    con: duckdb.DuckDBPyConnection, stream: Stream, batch: str, table: pa.Table, new_ids: bool
) -> None:
    """Each parent's rows of each to-many relationship it was given with ``data`` are
    replaced by the ids given, so removed links disappear; relationships given without
    ``data`` (NULL in the batch) keep what was there."""
    for bridge in bridges(stream):
        if bridge.batch_column not in table.column_names:
            continue
        given = f"FROM {batch} WHERE {quote(bridge.batch_column)} IS NOT NULL"
        parent, target = quote(bridge.parent_column), quote(bridge.target_column)
        if not new_ids:
            con.execute(f"DELETE FROM {bridge.qualified} WHERE {parent} IN (SELECT id {given})")
        con.execute(
            f"INSERT INTO {bridge.qualified} ({parent}, {target}) "
            f"SELECT id, unnest({quote(bridge.batch_column)}) {given}"
        )


def prepare_history(
    con: duckdb.DuckDBPyConnection, stream: Stream, table: pa.Table
) -> tuple[str, str]:
    """Create the stream's history table if need be; the batch's value columns (not ``id``,
    not to-many lists) as ``"a", "b"`` and as ``b."a", b."b"``, for copying rows into it."""
    con.execute(create_history_sql(stream))
    names = [n for n in table.column_names if not n.startswith(BRIDGE_PREFIX) and n != "id"]
    return ", ".join(quote(n) for n in names), ", ".join(f"b.{quote(n)}" for n in names)


def _add_versions(
    con: duckdb.DuckDBPyConnection, stream: Stream, batch: str, table: pa.Table, new_ids: bool
) -> None:
    """New versions (an id with an ``updatedAt`` not yet in the history) are added, then
    each touched id's ``valid_to`` is set to its next version's ``valid_from`` (NULL for the
    latest: the row is live), so versions arriving out of order still form one chain."""
    version = version_column(stream) or "_synced_at"
    history = history_table_name(stream)
    listed, from_batch = prepare_history(con, stream, table)
    unseen = (
        ""
        if new_ids
        else f" AND NOT EXISTS (SELECT 1 FROM {history} h "
        f"WHERE h.id = b.id AND h.valid_from = b.{quote(version)})"
    )
    con.execute(
        f"INSERT INTO {history} (id, valid_from, valid_to, {listed}) "
        f"SELECT b.id, b.{quote(version)}, NULL, {from_batch} FROM {batch} b "
        f"WHERE b.{quote(version)} IS NOT NULL{unseen}"
    )
    if new_ids:
        return  # one version per new id: the latest, open
    con.execute(
        f"UPDATE {history} SET valid_to = n.next_from FROM ("
        f"SELECT id, valid_from, lead(valid_from) OVER (PARTITION BY id ORDER BY valid_from)"
        f" AS next_from FROM {history} WHERE id IN (SELECT id FROM {batch})) n "
        f"WHERE {history}.id = n.id AND {history}.valid_from = n.valid_from "
        f"AND {history}.valid_to IS DISTINCT FROM n.next_from"
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
    with registered(con, table) as batch:
        con.execute(f"DELETE FROM {target} WHERE id IN (SELECT id FROM {batch})")
        _insert(con, target, batch, table)


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


def mark_deleted(
    con: duckdb.DuckDBPyConnection, stream: Stream, live_ids: pa.Table, *, history: bool = False
) -> WriteCounts:
    """Rows whose id the API no longer lists get ``_deleted_at``; listed ones lose it. With
    ``history``, the latest version of a deleted row is closed (``valid_to`` = the sweep
    time) and that of a row brought back is opened again.

    ``deleted`` counts rows newly marked, ``updated`` rows brought back."""
    target = table_name(stream)
    with registered(con, live_ids) as batch:
        marked = con.execute(
            f"UPDATE {target} SET _deleted_at = now()::TIMESTAMP "
            f"WHERE _deleted_at IS NULL AND id NOT IN (SELECT id FROM {batch})"
        ).fetchone()
        restored = con.execute(
            f"UPDATE {target} SET _deleted_at = NULL "
            f"WHERE _deleted_at IS NOT NULL AND id IN (SELECT id FROM {batch})"
        ).fetchone()
        if history:
            _close_versions(con, stream)
    return WriteCounts(
        deleted=int(marked[0]) if marked else 0, updated=int(restored[0]) if restored else 0
    )


def _close_versions(con: duckdb.DuckDBPyConnection, stream: Stream) -> None:
    target, history = table_name(stream), history_table_name(stream)
    con.execute(create_history_sql(stream))
    latest = (
        f"SELECT id, max(valid_from) AS valid_from FROM {history} "
        f"WHERE id IN (SELECT id FROM {target} WHERE _deleted_at IS {{}}) GROUP BY id"
    )
    con.execute(
        f"UPDATE {history} SET valid_to = t._deleted_at FROM {target} t, "
        f"({latest.format('NOT NULL')}) l WHERE {history}.id = t.id AND l.id = t.id "
        f"AND {history}.valid_from = l.valid_from AND {history}.valid_to IS NULL"
    )
    con.execute(
        f"UPDATE {history} SET valid_to = NULL FROM ({latest.format('NULL')}) l "
        f"WHERE {history}.id = l.id AND {history}.valid_from = l.valid_from "
        f"AND {history}.valid_to IS NOT NULL"
    )
