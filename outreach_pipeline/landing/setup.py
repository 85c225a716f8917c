"""Creating (and extending) the landing schema: stream tables, bridge tables of to-many
relationships, bookkeeping tables, views."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from outreach_pipeline.catalog import Stream
from outreach_pipeline.landing.schema import (
    SCHEMA,
    SYNC_RUNS_ADDED,
    SYNC_RUNS_SQL,
    SYNC_STATE_ADDED,
    SYNC_STATE_SQL,
    bridge_view_sql,
    bridges,
    columns,
    create_bridge_sql,
    create_table_sql,
    quote,
    table_name,
    view_sql,
)


def ensure_schema(con: duckdb.DuckDBPyConnection, streams: Iterable[Stream]) -> None:
    """Create what is missing; columns the catalog gained since are added (never dropped)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(SYNC_STATE_SQL)
    for name, sql_type in SYNC_STATE_ADDED.items():
        con.execute(f"ALTER TABLE {SCHEMA}._sync_state ADD COLUMN IF NOT EXISTS {name} {sql_type}")
    con.execute(SYNC_RUNS_SQL)
    for name, sql_type in SYNC_RUNS_ADDED.items():
        con.execute(f"ALTER TABLE {SCHEMA}.sync_runs ADD COLUMN IF NOT EXISTS {name} {sql_type}")
    for stream in streams:
        con.execute(create_table_sql(stream))
        existing = {
            row[0]
            for row in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [SCHEMA, stream.table],
            ).fetchall()
        }
        for column in columns(stream):
            if column.name not in existing:
                con.execute(
                    f"ALTER TABLE {table_name(stream)} "
                    f"ADD COLUMN {quote(column.name)} {column.sql_type}"
                )
        con.execute(view_sql(stream))
        for bridge in bridges(stream):
            con.execute(create_bridge_sql(bridge))
            con.execute(bridge_view_sql(stream, bridge))
