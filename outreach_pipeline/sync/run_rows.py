"""A stream run's row in ``outreach.sync_runs``: one writer for every way a run ends."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from outreach_pipeline.landing import Database, record_run
from outreach_pipeline.redaction import redact_and_cap
from outreach_pipeline.sync.results import StreamResult
from outreach_pipeline.sync.window_clock import utc_now


def record_stream_run(
    database: Database,
    result: StreamResult,
    run_id: str,
    started_at: datetime,
    full_refresh: bool,
    swept: bool,
) -> None:
    """``result``'s row, finished now; its error text masked and capped (it may quote what a
    server sent, and the database file is no place for a token)."""
    run: dict[str, Any] = {
        **asdict(result),
        "run_id": run_id,
        "started_at": started_at,
        "finished_at": utc_now(),
        "full_refresh": full_refresh,
        "swept_deletes": swept,
    }
    if result.error is not None:
        run["error"] = redact_and_cap(result.error)
    with database.transaction() as con:
        record_run(con, run)
