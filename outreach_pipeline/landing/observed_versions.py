"""History versions for changes that left ``updatedAt`` where it was, found by the sweep.

The history knows a version by its ``updatedAt``, so an upsert adds nothing for a record
changed silently. For such a record (its ``updatedAt`` already has a version) whose to-one
relationship ids differ from its latest version's, a version is added, holding all its
values, from the moment the sweep saw it
(``observed_at``; never before the version it follows, should the API's clock run ahead).
A rerun finds the ids equal and adds nothing. (To-many links are not in the history.)

It runs in a transaction of its own, just before the upsert of the same rows, whose history
step then closes the previous version: in one transaction, the two appends to tables this
wide overran the writing connection's 64 MB at scale 2000. Should the process die in
between, the row still differs from the API, so the next sweep fetches it again, adds no
second version and lands the row, closing the chain.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from outreach_pipeline.catalog import Stream
from outreach_pipeline.landing.registered import registered
from outreach_pipeline.landing.schema import (
    columns,
    history_table_name,
    quote,
    version_column,
)
from outreach_pipeline.landing.writes import prepare_history


def add_observed_versions(
    con: duckdb.DuckDBPyConnection, stream: Stream, table: pa.Table, observed_at: datetime
) -> None:
    """Add a version at ``observed_at`` for each row of ``table`` whose relationships changed
    silently."""
    history = history_table_name(stream)
    version = quote(version_column(stream) or "_synced_at")
    listed, from_batch = prepare_history(con, stream, table)
    linked = [c.name for c in columns(stream) if c.source == "relationship"]
    if not linked:
        return
    differs = " OR ".join(f"b.{quote(c)} IS DISTINCT FROM h.{quote(c)}" for c in linked)
    # Only ids, times and relationship ids are read from the history: scanning every column
    # of a table this wide pins a block per column and thread, which overran the writing
    # connection's 64 MB at scale 2000.
    with registered(con, table) as batch:
        known = con.sql(
            f"SELECT b.id, max(h.valid_from) AS latest FROM {batch} b "
            f"JOIN {history} h ON h.id = b.id GROUP BY b.id, b.{version} "
            f"HAVING bool_or(h.valid_from = b.{version})"
        ).to_arrow_table()
        with registered(con, known) as latest:
            observed = con.sql(
                f"SELECT b.id, greatest(?::TIMESTAMP, l.latest + INTERVAL 1 MILLISECOND) "
                f"AS valid_from, {from_batch} FROM {latest} l "
                f"JOIN {batch} b ON b.id = l.id "
                f"JOIN {history} h ON h.id = l.id AND h.valid_from = l.latest "
                f"WHERE {differs}",
                params=[observed_at],
            ).to_arrow_table()
    with registered(con, observed) as rows:
        con.execute(
            f"INSERT INTO {history} (id, valid_from, {listed}) "
            f"SELECT id, valid_from, {listed} FROM {rows}"
        )
