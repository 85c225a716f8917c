"""Every grant's landing read as one: views named like a single landing's (``outreach.<table>``,
``main.<view>``), each the ``UNION ALL BY NAME`` of that table in every grant that has it,
with a leading ``grant`` column saying whose row it is.

Each grant has a DuckDB file of its own (DuckDB lets one process write a file at a time, so
two grants synced at once need two files). A reader attaches every grant's file read-only,
as the catalog ``grant_<name>``, and queries these views. ``BY NAME`` matches columns by
name, so grants whose schemas drifted apart (one synced by a newer version with a column more)
still union: a column a grant lacks reads NULL there. A table some grants lack (a stream only
one grant synced) unions the grants that have it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from outreach_pipeline.landing.schema import SCHEMA, quote

GRANT_COLUMN = "grant"
# The schemas of a landing that readers query: main's views and outreach's tables.
READ_SCHEMAS = ("main", SCHEMA)


@dataclass(frozen=True)
class GrantLanding:
    """One grant's landing: its name and its database file."""

    grant: str
    db_path: Path


def grant_catalog(grant: str) -> str:
    """The name a grant's file is attached under: ``grant_<name>``, never a name DuckDB
    keeps for itself (``main``, ``memory``, ``system``, ``temp`` are valid grant names)."""
    return f"grant_{grant}"


def attach_sql(grant: str, path: Path) -> str:
    escaped = str(path).replace("'", "''")
    return f"ATTACH '{escaped}' AS {quote(grant_catalog(grant))} (READ_ONLY)"


def union_views_sql(con: duckdb.DuckDBPyConnection, grants: Sequence[str]) -> list[str]:
    """The statements creating, in ``con``'s default catalog, one view per table or view of
    :data:`READ_SCHEMAS` found in the attached catalogs of ``grants`` (see the module)."""
    catalogs = {grant_catalog(grant): grant for grant in grants}
    found = con.execute(
        "SELECT table_schema, table_name, list(table_catalog) FROM information_schema.tables "
        "WHERE list_contains(?, table_catalog) AND list_contains(?, table_schema) "
        "GROUP BY ALL ORDER BY ALL",
        [list(catalogs), list(READ_SCHEMAS)],
    ).fetchall()
    statements = [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"]
    for schema, table, holders in found:
        parts = [
            f"SELECT {_literal(catalogs[name])} AS {quote(GRANT_COLUMN)}, * "
            f"FROM {quote(name)}.{quote(schema)}.{quote(table)}"
            for name in sorted(holders, key=list(catalogs).index)
        ]
        statements.append(
            f"CREATE VIEW {quote(schema)}.{quote(table)} AS " + " UNION ALL BY NAME ".join(parts)
        )
    return statements


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
