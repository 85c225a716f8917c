"""A sync's authentication, ready before any stream starts, or recorded as why the run failed.

Obtaining the first token up front means a grant or token endpoint that fails is reported once
(not by every stream, each retrying the token endpoint in turn) and still leaves a row per
stream in ``outreach.sync_runs``, so a run that never started is as visible as one that failed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

import httpx

from outreach_pipeline.auth import AuthError, BearerTokenAuth, build_auth
from outreach_pipeline.catalog import Stream
from outreach_pipeline.client import Interrupted
from outreach_pipeline.landing import Database, load_state
from outreach_pipeline.settings import Settings
from outreach_pipeline.sync.progress import INTERRUPTED
from outreach_pipeline.sync.results import StreamResult
from outreach_pipeline.sync.run_rows import record_stream_run
from outreach_pipeline.sync.window_clock import utc_now
from outreach_pipeline.transport import stopping_with


def authenticated(
    settings: Settings,
    auth: httpx.Auth | None,
    database: Database,
    streams: Sequence[Stream],
    run_id: str,
    full_refresh: bool,
    stop: threading.Event,
) -> httpx.Auth:
    """``auth`` (built from ``settings`` when None) holding a token; on an :class:`AuthError`,
    a failed run row for each of ``streams``, then the error again; when ``stop`` ends the
    token request's wait, an interrupted row for each, then :class:`Interrupted`."""
    started_at = utc_now()
    try:
        ready = auth or build_auth(settings)
        if isinstance(ready, BearerTokenAuth):
            with stopping_with(stop):
                ready.current()
    except AuthError as error:
        record_unstarted(database, streams, run_id, full_refresh, started_at, str(error))
        raise
    except Interrupted:
        record_unstarted(database, streams, run_id, full_refresh, started_at, None)
        raise
    return ready


def record_unstarted(
    database: Database,
    streams: Sequence[Stream],
    run_id: str,
    full_refresh: bool,
    started_at: datetime,
    error: str | None,
) -> None:
    """A failed run row for each of ``streams``, none of which started, saying ``error``
    (None: that the run was stopped before they started)."""
    for stream in streams:
        with database.transaction() as con:
            cursor = load_state(con, stream.path).cursor
        result = StreamResult(
            stream=stream.path,
            run_id=run_id,
            cursor_before=cursor,
            cursor_after=cursor,
            error=error or f"stream {stream.path}: {INTERRUPTED}",
            interrupted=error is None,
        )
        record_stream_run(database, result, run_id, started_at, full_refresh, swept=False)
