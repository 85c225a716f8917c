"""Per-stream sync state, committed in the same transaction as the data it describes.

``cursor`` is where the next incremental run starts. While a run is under way, each batch
also records where its listing goes on: ``resume_url`` (the next page still to fetch) and,
when the run reads the stream's window as several chains of pages at once (see
:mod:`outreach_pipeline.sync.page_chains`), ``resume_more`` (the next page of each other
unfinished chain), with ``resume_cursor`` (the window's end, or the largest cursor value
landed so far in this run). The cursor itself only moves when the run has seen every page,
because records may arrive out of order and a cursor taken mid-run could skip records still
to come. A rerun after a crash continues from every saved link.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime

import duckdb

from outreach_pipeline.landing.schema import SCHEMA

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamState:
    cursor: str | None = None
    resume_url: str | None = None
    resume_cursor: str | None = None
    last_swept_at: datetime | None = None
    page_size: int | None = None
    resume_more: tuple[str, ...] = ()

    @property
    def resume_links(self) -> tuple[str, ...]:
        """Every saved link to go on from (none: the window is read from its start)."""
        if self.resume_url is None:
            return ()
        return (self.resume_url, *self.resume_more)

    def going_on_from(self, links: list[str], cursor: str | None) -> StreamState:
        """This state saying the run goes on from ``links`` (none: from nowhere)."""
        return replace(
            self,
            resume_url=links[0] if links else None,
            resume_more=tuple(links[1:]),
            resume_cursor=cursor if links else None,
        )


def load_state(con: duckdb.DuckDBPyConnection, stream: str) -> StreamState:
    row = con.execute(
        "SELECT cursor, resume_url, resume_cursor, last_swept_at, page_size, resume_more "
        f"FROM {SCHEMA}._sync_state "
        "WHERE stream = ?",
        [stream],
    ).fetchone()
    if not row:
        return StreamState()
    cursor, resume_url, resume_cursor, last_swept_at, page_size, more = row
    links = _links(more)
    if links is None:
        # Resuming some chains of a cut window and not the others would skip records: the
        # window is read again from its start instead.
        log.warning("%s: saved resume_more is not a list of links; the window starts over", stream)
        resume_url, resume_cursor, links = None, None, ()
    return StreamState(cursor, resume_url, resume_cursor, last_swept_at, page_size, links)


def _links(saved: str | None) -> tuple[str, ...] | None:
    """``resume_more`` as saved (a JSON array of links); None when it is not that."""
    try:
        links = json.loads(saved or "[]")
    except ValueError:
        return None
    if not isinstance(links, list) or not all(isinstance(link, str) for link in links):
        return None
    return tuple(links)


def save_state(con: duckdb.DuckDBPyConnection, stream: str, state: StreamState) -> None:
    con.execute(
        f"INSERT OR REPLACE INTO {SCHEMA}._sync_state (stream, cursor, resume_url, "
        "resume_more, resume_cursor, last_swept_at, page_size, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
        [
            stream,
            state.cursor,
            state.resume_url,
            # A JSON array in a plain VARCHAR: this row is rewritten with every batch, and the
            # snapshot readers' file is the plainer for it than with a LIST column.
            json.dumps(list(state.resume_more)) if state.resume_more else None,
            state.resume_cursor,
            state.last_swept_at,
            state.page_size,
        ],
    )
