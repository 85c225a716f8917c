"""``outreach.sync_runs``: one row per stream per run, written when the stream finishes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from outreach_pipeline.landing.schema import SCHEMA

RUN_COLUMNS = (
    "run_id",
    "stream",
    "started_at",
    "finished_at",
    "full_refresh",
    "swept_deletes",
    "records_inserted",
    "records_updated",
    "records_deleted",
    "requests",
    "pages",
    "duration_s",
    "cursor_before",
    "cursor_after",
    "rate_limit_remaining",
    "error",
    "records_refetched",
    "chains",
)


def record_run(con: duckdb.DuckDBPyConnection, run: Mapping[str, Any]) -> None:
    """Insert one run row; ``run`` holds every name of :data:`RUN_COLUMNS`."""
    names = ", ".join(RUN_COLUMNS)
    marks = ", ".join("?" for _ in RUN_COLUMNS)
    con.execute(
        f"INSERT INTO {SCHEMA}.sync_runs ({names}) VALUES ({marks})",
        [run[name] for name in RUN_COLUMNS],
    )
