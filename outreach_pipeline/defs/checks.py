"""Asset checks of the landed tables, declared per stream from the catalog.

They run in the same step as the sync (``check_specs`` of the stream assets), reading the
table the sync just wrote. Freshness is a ``FreshnessPolicy`` on each asset (see assets.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import dagster as dg
import duckdb

from outreach_pipeline.catalog import Stream, catalog, snake_case
from outreach_pipeline.defs.keys import asset_key
from outreach_pipeline.landing import columns, table_name

IDS_UNIQUE = "ids_unique"
NO_FUTURE_ROWS = "no_rows_newer_than_run"
RELATIONSHIPS_FOUND = "to_one_ids_found"


def timestamp_column(stream: Stream) -> str | None:
    """The column telling when a row last changed: the cursor's, else ``updatedAt``'s."""
    field = stream.cursor or ("updatedAt" if "updatedAt" in stream.attributes else None)
    return next(
        (c.name for c in columns(stream) if c.source == "attribute" and c.api_name == field),
        None,
    )


def relationship_targets(stream: Stream) -> dict[str, Stream]:
    """To-one relationship columns whose target type is a stream of the catalog."""
    by_type = {s.jsonapi_type: s for s in catalog().values()}
    return {
        snake_case(rel) + "_id": by_type[kind]
        for rel, kind in stream.to_one.items()
        if kind in by_type
    }


def check_specs(stream: Stream) -> list[dg.AssetCheckSpec]:
    key = asset_key(stream)
    specs = [dg.AssetCheckSpec(IDS_UNIQUE, asset=key, description="No id appears twice.")]
    if timestamp_column(stream):
        specs.append(
            dg.AssetCheckSpec(
                NO_FUTURE_ROWS,
                asset=key,
                description="No row changed later than the sync started (clock or cursor bug).",
            )
        )
    if relationship_targets(stream):
        specs.append(
            dg.AssetCheckSpec(
                RELATIONSHIPS_FOUND,
                asset=key,
                description="To-one relationship ids are found in their target tables "
                "(warns only: a target may be outside the grant's scopes or not synced yet).",
            )
        )
    return specs


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def ids_unique(con: duckdb.DuckDBPyConnection, stream: Stream) -> dg.AssetCheckResult:
    duplicates = _scalar(con, f"SELECT count(*) - count(DISTINCT id) FROM {table_name(stream)}")
    return dg.AssetCheckResult(
        asset_key=asset_key(stream),
        check_name=IDS_UNIQUE,
        passed=duplicates == 0,
        metadata={"duplicate_ids": duplicates},
    )


def no_future_rows(
    con: duckdb.DuckDBPyConnection, stream: Stream, started_at: datetime
) -> dg.AssetCheckResult:
    """``started_at``: naive UTC, as the landing stores timestamps."""
    column = timestamp_column(stream)
    newer = _scalar(
        con, f'SELECT count(*) FROM {table_name(stream)} WHERE "{column}" > ?', [started_at]
    )
    return dg.AssetCheckResult(
        asset_key=asset_key(stream),
        check_name=NO_FUTURE_ROWS,
        passed=newer == 0,
        metadata={
            "rows_newer_than_run": newer,
            "column": column,
            "run_started_at": str(started_at),
        },
    )


def relationships_found(con: duckdb.DuckDBPyConnection, stream: Stream) -> dg.AssetCheckResult:
    """Per relationship column, ids missing from a target table that holds rows at all."""
    missing: dict[str, int] = {}
    for column, target in relationship_targets(stream).items():
        if not _scalar(con, f"SELECT count(*) FROM {table_name(target)}"):
            continue
        count = _scalar(
            con,
            f'SELECT count(*) FROM {table_name(stream)} s WHERE s."{column}" IS NOT NULL '
            f'AND NOT EXISTS (SELECT 1 FROM {table_name(target)} t WHERE t.id = s."{column}")',
        )
        if count:
            missing[column] = count
    return dg.AssetCheckResult(
        asset_key=asset_key(stream),
        check_name=RELATIONSHIPS_FOUND,
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"missing_ids_by_column": missing, "dangling_ids": sum(missing.values())},
    )


def data_checks(
    con: duckdb.DuckDBPyConnection,
    stream: Stream,
    started_at: datetime,
    selected: set[dg.AssetCheckKey],
) -> Iterator[dg.AssetCheckResult]:
    """The selected data checks of ``stream``, run on its table."""
    key = asset_key(stream)
    runners = {
        IDS_UNIQUE: lambda: ids_unique(con, stream),
        NO_FUTURE_ROWS: lambda: no_future_rows(con, stream, started_at),
        RELATIONSHIPS_FOUND: lambda: relationships_found(con, stream),
    }
    for name, run in runners.items():
        if dg.AssetCheckKey(key, name) in selected:
            yield run()
