"""Per-stream sync state, committed in the same transaction as the data it describes.

``cursor`` is where the next incremental run starts. While a run is under way, each batch
also records ``resume_url`` (the next page still to fetch) and ``resume_cursor`` (the largest
cursor value landed so far in this run): the cursor itself only moves when the run has seen
every page, because records may arrive out of order and a cursor taken mid-run could skip
records still to come. A rerun after a crash continues from ``resume_url``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from outreach_pipeline.landing.schema import SCHEMA


@dataclass(frozen=True)
class StreamState:
    cursor: str | None = None
    resume_url: str | None = None
    resume_cursor: str | None = None
    last_swept_at: datetime | None = None
    page_size: int | None = None


def load_state(con: duckdb.DuckDBPyConnection, stream: str) -> StreamState:
    row = con.execute(
        "SELECT cursor, resume_url, resume_cursor, last_swept_at, page_size "
        f"FROM {SCHEMA}._sync_state "
        "WHERE stream = ?",
        [stream],
    ).fetchone()
    return StreamState(*row) if row else StreamState()


def save_state(con: duckdb.DuckDBPyConnection, stream: str, state: StreamState) -> None:
    con.execute(
        f"INSERT OR REPLACE INTO {SCHEMA}._sync_state "
        "(stream, cursor, resume_url, resume_cursor, last_swept_at, page_size, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
        [
            stream,
            state.cursor,
            state.resume_url,
            state.resume_cursor,
            state.last_swept_at,
            state.page_size,
        ],
    )
