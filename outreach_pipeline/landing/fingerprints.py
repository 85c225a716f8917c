"""Fingerprints for the sweep: per record, the cheap values that can change without
``updatedAt`` moving, compared with what the landing holds.

Outreach changes some relationships (and data connections) without bumping ``updatedAt``, so
an incremental sync never sees them. A record's fingerprint is its to-one relationship ids,
the ids of its to-many relationships that come with ``data`` (a deleted email address drops
out of its prospect's list silently) and its ``updatedAt`` (which also catches an update the
incremental reads missed). Asked with a sparse fieldset, it costs about what listing ids
costs; records whose fingerprint differs from their landed row, or that have no row, are the
ones worth fetching again in full.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from outreach_pipeline.catalog import Stream
from outreach_pipeline.landing.registered import registered
from outreach_pipeline.landing.schema import Bridge, bridges, columns, quote, table_name


@dataclass(frozen=True)
class Fingerprint:
    """What to ask for (``fields``: API names) and what to compare (landing columns)."""

    fields: tuple[str, ...]
    columns: tuple[str, ...]
    bridges: tuple[Bridge, ...]

    @property
    def batch_columns(self) -> list[str]:
        """The columns of a converted listing page that make up the fingerprint, with id."""
        return ["id", *self.columns, *(b.batch_column for b in self.bridges)]


def fingerprint_of(stream: Stream) -> Fingerprint | None:
    """The stream's fingerprint; None when it has nothing to compare beyond ids."""
    compared = [
        c
        for c in columns(stream)
        if c.source == "relationship" or (c.source == "attribute" and c.api_name == "updatedAt")
    ]
    linked = tuple(bridges(stream))
    fields = tuple(c.api_name for c in compared) + tuple(b.relationship for b in linked)
    if not fields:
        return None
    return Fingerprint(fields, tuple(c.name for c in compared), linked)


def stale_ids(
    con: duckdb.DuckDBPyConnection, stream: Stream, fingerprint: Fingerprint, listed: pa.Table
) -> list[int]:
    """Ids in ``listed`` (rows of :attr:`Fingerprint.batch_columns`) whose landed row is
    missing or differs in a fingerprint value, ascending.

    One query for the row's columns and one per to-many relationship, rather than one
    joining everything: each stays well inside the writing connection's memory limit."""
    stale: set[int] = set()
    with registered(con, listed) as batch:
        columns_differ = " OR ".join(
            ["t.id IS NULL"]
            + [f"f.{quote(c)} IS DISTINCT FROM t.{quote(c)}" for c in fingerprint.columns]
        )
        queries = [
            f"SELECT f.id FROM {batch} f LEFT JOIN {table_name(stream)} t ON t.id = f.id "
            f"WHERE {columns_differ}"
        ]
        for bridge in fingerprint.bridges:
            parent, target = quote(bridge.parent_column), quote(bridge.target_column)
            given = f"f.{quote(bridge.batch_column)}"
            # A relationship listed without data says nothing about the links held.
            queries.append(
                f"SELECT f.id FROM {batch} f LEFT JOIN (SELECT {parent} AS id, "
                f"list_sort(list({target})) AS ids FROM {bridge.qualified} GROUP BY {parent}) b "
                f"ON b.id = f.id WHERE {given} IS NOT NULL "
                f"AND list_sort({given}) IS DISTINCT FROM coalesce(b.ids, []::BIGINT[])"
            )
        for query in queries:
            stale.update(row[0] for row in con.execute(query).fetchall())
    return sorted(stale)
