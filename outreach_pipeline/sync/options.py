"""Tunables of a sync run, with the defaults used in production."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from outreach_pipeline.client import PageLimits


@dataclass(frozen=True)
class SyncOptions:
    """How a sync runs (batch sizes, concurrency, sweeps, incremental windows, memory and
    lock waits), as opposed to :class:`~outreach_pipeline.settings.Settings`, which say
    what it talks to. The defaults are production's; tests and the CLI override a few."""

    # A batch is committed when it holds this many rows or Arrow bytes, whichever comes first:
    # it bounds memory per stream (one batch filling, one landing) and how much a crash makes
    # a rerun fetch again.
    batch_rows: int = 25_000
    batch_bytes: int = 8 * 1024 * 1024
    # Streams fetched at once (each holds at most one batch in memory). Against the real API
    # a sync waits on latency far more than it computes: under the benchmarks' latency profile
    # 8 took a full sync at scale 20,000 from 52.6 s to 37.3 s, with the same time CPU-bound
    # and ~20 MB more peak memory at 1M records (docs/benchmarks.md).
    concurrency: int = 8
    # A long stream's window is read as several chains of pages at once (see
    # sync/page_chains.py): a window is cut in two while its first page says at least twice
    # ``chain_min_pages`` pages are left, into at most twice ``chains_per_stream`` parts, of
    # which ``chains_per_stream`` are read at once. The extra threads come from
    # ``extra_chains`` slots shared by the run's streams, so at most ``concurrency +
    # extra_chains`` pages are asked at once. ``chains_per_stream=1`` never cuts. Cutting at
    # 8 pages rather than 4 made the same time at scale 20,000 under the benchmarks' latency
    # profile (23.3 s against 23.9 s) with 10 requests fewer (each cut may cost one).
    chains_per_stream: int = 4
    chain_min_pages: int = 8
    extra_chains: int = 4
    # Pages parsed and converted at once, across streams (a parsed page of 1,000 prospects
    # holds ~24 MB of Python objects until converted).
    pages_decoded_at_once: int = 1
    # Deleted records are looked for when the last sweep is older than this (None: only
    # when asked with ``sweep_deletes``).
    sweep_interval: timedelta | None = timedelta(days=7)
    # Listing ids for the delete sweep asks this many per page.
    sweep_page_size: int = 1000
    # The sweep also lists each record's fingerprint (to-one ids, to-many ids, updatedAt)
    # and fetches again the records that changed without ``updatedAt`` moving; False lists
    # ids only (deletes alone), e.g. for an API that refuses relationships in ``fields``.
    fingerprint_sweep: bool = True
    # Streams (API paths) whose every observed version is kept in ``<table>__history``.
    history_streams: frozenset[str] = frozenset(
        {"accounts", "prospects", "opportunities", "sequenceStates"}
    )
    # Incremental windows (see _StreamLoad): each run re-reads this much below the cursor,
    # and stops this much before the server's time at its start.
    window_overlap: timedelta = timedelta(minutes=2)
    window_margin: timedelta = timedelta(seconds=1)
    # How far ahead of this host's clock the API's ``Date`` is still believed (beyond it the
    # window ends at this host's time), and a stored cursor is still not "in the future"
    # (beyond it, it is moved back): see :mod:`outreach_pipeline.sync.window_clock`.
    max_clock_skew: timedelta = timedelta(minutes=5)
    # The most body one answer may bring and the time to read it (see ``PageLimits``).
    page_limits: PageLimits = field(default_factory=PageLimits)
    # DuckDB's buffer pool of the writing connection (it spills to disk beyond). What a
    # checkpoint needs grows with a table's width, not its length, since the landing writes
    # row groups of 16k rows: a full sync of 1M records completes in 64 MB. A write that
    # needs more runs again with twice the limit, up to 4x (see Database).
    duckdb_memory_limit: str = "64MB"
    # Seconds a sync waits while another sync (another process, or a Dagster run) writes the
    # same database, before it gives up (see landing/writer_lock.py).
    writer_lock_wait: float = 600.0
