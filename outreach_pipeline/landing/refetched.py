"""Landing the records the sweep fetched again: the normal upsert, plus a history version
for a change that left ``updatedAt`` where it was.

The history knows a version by its ``updatedAt``, so the upsert adds nothing for a record
changed silently. For such a record (its ``updatedAt`` already has a version) whose values
differ from its latest version, a version is added from the moment the sweep saw it
(``observed_at``; never before the version it follows, should the API's clock run ahead).
A rerun finds the values equal and adds nothing.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from outreach_pipeline.catalog import Stream
from outreach_pipeline.landing.registered import registered
from outreach_pipeline.landing.schema import (
    BRIDGE_PREFIX,
    columns,
    create_history_sql,
    history_table_name,
    quote,
    version_column,
)
from outreach_pipeline.landing.writes import WriteCounts, upsert


def land_refetched(
    con: duckdb.DuckDBPyConnection,
    stream: Stream,
    table: pa.Table,
    observed_at: datetime,
    *,
    history: bool,
) -> WriteCounts:
    """Upsert ``table`` (distinct ids); with ``history``, silent changes get a version."""
    if history and table.num_rows:
        _add_observed_versions(con, stream, table, observed_at)
    return upsert(con, stream, table, history=history)


def _add_observed_versions(
    con: duckdb.DuckDBPyConnection, stream: Stream, table: pa.Table, observed_at: datetime
) -> None:
    history = history_table_name(stream)
    version = quote(version_column(stream) or "_synced_at")
    con.execute(create_history_sql(stream))
    names = [n for n in table.column_names if not n.startswith(BRIDGE_PREFIX) and n != "id"]
    listed = ", ".join(quote(n) for n in names)
    from_batch = ", ".join(f"b.{quote(n)}" for n in names)
    compared = [c.name for c in columns(stream)] + ["_extra"]
    differs = " OR ".join(f"b.{quote(c)} IS DISTINCT FROM h.{quote(c)}" for c in compared)
    with registered(con, table) as batch:
        con.execute(
            f"INSERT INTO {history} (id, valid_from, valid_to, {listed}) "
            f"SELECT b.id, greatest(?::TIMESTAMP, h.valid_from + INTERVAL 1 MILLISECOND), "
            f"NULL, {from_batch} FROM {batch} b JOIN {history} h ON h.id = b.id "
            f"WHERE h.valid_from = (SELECT max(valid_from) FROM {history} WHERE id = b.id) "
            f"AND EXISTS (SELECT 1 FROM {history} s "
            f"WHERE s.id = b.id AND s.valid_from = b.{version}) AND ({differs})",
            [observed_at],
        )
