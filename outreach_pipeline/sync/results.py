"""What one stream's sync did, as returned to callers and recorded in ``outreach.sync_runs``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StreamResult:
    """What one run of one stream did: counts, cursors before and after, requests made, and
    ``error`` (redacted) when it stopped early; rows landed before an error are
    kept. ``run_sync`` returns one per stream and each becomes a row of
    ``outreach.sync_runs``."""

    stream: str
    run_id: str = ""
    records_inserted: int = 0
    records_updated: int = 0
    records_deleted: int = 0
    # Records the sweep found changed without a newer ``updatedAt`` (or missing) and fetched
    # again in full; they are also in ``records_inserted``/``records_updated``.
    records_refetched: int = 0
    requests: int = 0
    pages: int = 0
    # Chains of pages the stream's window was read as (more than one when it was cut, see
    # sync/page_chains.py).
    chains: int = 1
    cursor_before: str | None = None
    cursor_after: str | None = None
    duration_s: float = 0.0
    rate_limit_remaining: int | None = None
    error: str | None = None
    # Stopped on request (Ctrl-C, SIGTERM, a Dagster termination); ``error`` says so too.
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def records(self) -> int:
        """Rows written (inserted or updated) by this run."""
        return self.records_inserted + self.records_updated
