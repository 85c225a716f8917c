"""Syncing one stream: fetch pages from the cursor on, land them batch by batch.

Each batch commits its rows and the stream's state in one transaction, so a crash at any
moment loses nothing: the rerun continues from the next page recorded with the last batch.
Incremental streams (``updatedAt``, and ``createdAt`` for append-only events) are upserted
by id and the cursor moves to the largest value seen once every page is in. Streams without
a cursor are staged and swapped in whole at the end.

A page's ``links.next`` comes from outside: the client asks nothing outside the API's base
(:class:`~outreach_pipeline.client.ApiBase`), and :class:`PageWalk` stops a listing that
would not end. Either stops the stream with what was read before kept, and the link is not
saved to resume from.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import replace
from datetime import datetime

import duckdb
import pyarrow as pa

from outreach_pipeline.catalog import Stream
from outreach_pipeline.client import (
    ApiUnusable,
    Document,
    FetchedPage,
    FetchError,
    Interrupted,
    JsonApiClient,
    UnsafeUrl,
)
from outreach_pipeline.landing import (
    BadRecord,
    Database,
    RecordConverter,
    StreamState,
    WriteCounts,
    format_cursor,
    load_state,
    replace_from_stage,
    reset_stage,
    save_state,
    stage,
    upsert,
)
from outreach_pipeline.redaction import redact
from outreach_pipeline.sync.batches import BatchBuffer
from outreach_pipeline.sync.errors import StreamFailed
from outreach_pipeline.sync.listings import first_page_url, shifted_cursor
from outreach_pipeline.sync.options import SyncOptions
from outreach_pipeline.sync.page_chains import ChainRunner, HelperSlots, PageChain
from outreach_pipeline.sync.progress import INTERRUPTED, SyncProgress
from outreach_pipeline.sync.results import StreamResult
from outreach_pipeline.sync.run_rows import record_stream_run
from outreach_pipeline.sync.sweep import sweep, sweep_due
from outreach_pipeline.sync.window_clock import (
    in_the_future,
    newest_allowed,
    repaired_cursor,
    utc_now,
    window_end,
)
from outreach_pipeline.sync.window_cuts import WindowCutter

log = logging.getLogger(__name__)


def _later(a: str | None, b: str | None) -> str | None:
    """The later of two cursors in Outreach's fixed-width form (None counts as earliest)."""
    if a is None or b is None:
        return a or b
    return max(a, b)


def sync_stream(
    stream: Stream,
    client: JsonApiClient,
    database: Database,
    *,
    full_refresh: bool = False,
    sweep_deletes: bool = False,
    options: SyncOptions | None = None,
    run_id: str = "",
    decoding: threading.Semaphore | None = None,
    chain_slots: HelperSlots | None = None,
    progress: SyncProgress | None = None,
    requests_before: int = 0,
) -> StreamResult:
    """Bring ``stream``'s table up to date with the API; errors end up in ``result.error``.

    ``decoding``, shared by the streams of a run, bounds the pages they hold parsed at once
    (see :meth:`JsonApiClient.fetch_page`; default: this stream's own). ``chain_slots``,
    shared alike, lends the helper threads reading parts of a stream's window at once
    (see :mod:`.page_chains`; default: ``options.extra_chains`` of this stream's own).

    ``sweep_deletes`` lists every id afterwards and marks missing rows ``_deleted_at``; it
    also happens when ``options.sweep_interval`` has passed since the last sweep.

    Every run leaves a row in ``outreach.sync_runs``, however it ends: an unexpected
    exception is recorded as the stream's error, then raised again. A run stopped on request
    (``client.stop``: :class:`Interrupted`) keeps the pages read before, its row says
    ``interrupted``, and the next run resumes where it stopped.

    ``progress`` is told when the stream starts, of each page read and when it finishes.
    ``requests_before``: requests the run made for this stream before it started (counted in
    its result).
    """
    options = options or SyncOptions()
    progress = progress or SyncProgress()
    progress.stream_started(stream.path)
    decoding = decoding or threading.BoundedSemaphore(options.pages_decoded_at_once)
    chain_slots = chain_slots or HelperSlots(options.extra_chains)
    started_at, started = utc_now(), time.perf_counter()
    result = StreamResult(stream=stream.path, run_id=run_id, requests=requests_before)
    state = StreamState()
    swept = False
    try:
        with database.transaction() as con:
            state = load_state(con, stream.path)
            if not stream.incremental:
                reset_stage(con, stream)
        result.cursor_before = result.cursor_after = state.cursor
        state = _StreamLoad(
            stream,
            client,
            database,
            state,
            full_refresh,
            options,
            result,
            started_at,
            decoding,
            chain_slots,
            progress,
        ).run()
        if stream.incremental and sweep_due(state, sweep_deletes, options, started_at):
            swept = True
            sweep(stream, client, database, options, result, started_at)
    except StreamFailed as failure:
        result.error = redact(str(failure))
        log.error("%s", result.error)
    except Interrupted:
        result.interrupted = True
        result.error = f"stream {stream.path}: {INTERRUPTED}"
    except ApiUnusable as unusable:
        result.error = redact(f"stream {stream.path}: {unusable.problem}")
        raise
    except BaseException as unexpected:
        result.error = redact(f"stream {stream.path}: {type(unexpected).__name__}: {unexpected}")
        raise
    finally:
        result.duration_s = time.perf_counter() - started
        record_stream_run(database, result, run_id, started_at, full_refresh, swept)
        progress.stream_finished(result)
    return result


class _LandingFailed(StreamFailed):
    """A batch could not be landed: the stream stops with nothing landed after it."""


class _ResumeLinkRefused(Exception):
    """The API refused the next-page link saved by an unfinished run (4xx)."""


class _LinkRefused(StreamFailed):
    """A next-page link is not followed (outside the API, malformed, or a listing that does
    not end): the stream stops, and the link is not saved to resume from."""


class _StreamLoad:
    """One run's loop over a stream's pages: fetch, convert, buffer, commit full batches."""

    def __init__(
        self,
        stream: Stream,
        client: JsonApiClient,
        database: Database,
        state: StreamState,
        full_refresh: bool,
        options: SyncOptions,
        result: StreamResult,
        started_at: datetime,
        decoding: threading.Semaphore,
        chain_slots: HelperSlots,
        progress: SyncProgress,
    ) -> None:
        self.stream = stream
        self.progress = progress
        self.decoding = decoding
        self.chain_slots = chain_slots
        # Guards what the chains of pages share: the buffer, the state, the result.
        self.lock = threading.RLock()
        self.client = client
        self.database = database
        self.state = state
        self.result = result
        self.history = stream.path in options.history_streams
        self.converter = RecordConverter(stream)
        cursor_column = next(
            (
                c.name
                for c in self.converter.columns
                if c.source == "attribute" and c.api_name == stream.cursor
            ),
            None,
        )
        self.cursor_column = cursor_column
        self.cutter = WindowCutter(stream, client, cursor_column, options)
        self.buffer = BatchBuffer(options.batch_rows, options.batch_bytes, cursor_column)
        self.full_refresh = full_refresh
        self.page_size = state.page_size
        self.options = options
        self.start_cursor = None if full_refresh or not stream.incremental else state.cursor
        self.resuming = stream.incremental and not full_refresh and self._resumable(state)
        # The window this run reads, ``since..until``: from the cursor less an overlap
        # (records the API wrote late, with an older updatedAt) to the server's time at the
        # start less a margin. When every page is in, the cursor moves to ``until``, whatever
        # the records say: the API has been seen ignoring the upper bound and returning
        # records out of order, so no record's value is trusted to move it. A rerun after a
        # crash finishes the same window (``resume_cursor`` keeps ``until``).
        self.until = state.resume_cursor if self.resuming else None
        self.newest_in_run = self.until
        # A load from no cursor sees every record there is: deletes are counted from its start.
        self.sweep_baseline = started_at if self.start_cursor is None else None
        self.synced_at = utc_now()
        self.runner: ChainRunner | None = None
        self._landing: tuple[Future[WriteCounts], StreamState] | None = None
        self._landing_failed: _LandingFailed | None = None

    def _resumable(self, state: StreamState) -> bool:
        """Whether the saved resume link may be followed: under the API's base (a link
        saved by an older version, or under another API URL, is not) and not from a window
        ending in the future."""
        if not state.resume_links:
            return False
        if not all(self.client.base.allows(link) for link in state.resume_links):
            log.warning(
                "%s: saved resume link is not under the API URL; restarting", self.stream.path
            )
            return False
        return not in_the_future(state.resume_cursor, self.options.max_clock_skew)

    def run(self) -> StreamState:
        """Land every page; the stream's state as finally committed."""
        if self.stream.incremental and not self.resuming:
            self._repair_future_cursor()
            self._start_window()
        if self.resuming:
            chains = [PageChain(link, resumed=True) for link in self.state.resume_links]
        else:
            chains = [self._first_chain()]
        while True:
            self.runner = ChainRunner(
                chains,
                self._walk_chain,
                self.chain_slots,
                self.options.chains_per_stream - 1,
                self.lock,
            )
            try:
                self.runner.run()
                break
            except _ResumeLinkRefused:
                self.resuming = False
                self._repair_future_cursor()
                self._start_window()
                chains = [self._first_chain()]
            except _LandingFailed:
                raise
            except Interrupted:
                # Stopped on request: the pages read so far land whole, with the links to go
                # on from, so the next run resumes here.
                if self.stream.incremental:
                    self._commit()
                    self.wait_for_landing()
                raise
            except StreamFailed as failure:
                # Keep the pages read before the failing one; a rerun resumes at that page,
                # unless it is a link not to be followed: then the rerun starts the window over.
                if self.stream.incremental:
                    with suppress(StreamFailed):
                        self._commit(resume=not isinstance(failure, _LinkRefused))
                        self.wait_for_landing()
                raise
            finally:
                self.result.chains = self.runner.chains
        self._commit(finished=True)
        return self.state

    def _first_chain(self) -> PageChain:
        """The window's listing from its start; one that may be cut (a load from no cursor,
        up to a known end) asks for its count."""
        cuttable = self.start_cursor is None and self.until is not None
        return PageChain(self._first_url(count=cuttable), until=self.until if cuttable else None)

    def _walk_chain(self, chain: PageChain) -> None:
        assert self.runner is not None
        while chain.url is not None and not self.runner.halted.is_set():
            self._land_page(chain)

    def _repair_future_cursor(self) -> None:
        """A stored cursor beyond this host's clock (see :mod:`.window_clock`) goes back to
        the newest value landed that is not in the future."""
        if not in_the_future(self.start_cursor, self.options.max_clock_skew):
            return
        repaired = repaired_cursor(self.database, self.stream, self.cursor_column)
        log.warning(
            "%s: stored cursor %s is in the future; moved back to %s",
            self.stream.path,
            self.start_cursor,
            repaired or "the start (nothing landed before it)",
        )
        self.start_cursor = repaired
        self.state = replace(self.state, cursor=repaired, resume_url=None, resume_cursor=None)

    def _start_window(self) -> None:
        """End this run's window at the server's time less the margin; with no ``Date``
        from the API, leave it open (the cursor then moves to the largest value seen, up to
        this host's time)."""
        try:
            now, requests = self.client.server_now(self.stream.path)
        except ApiUnusable:
            raise
        except FetchError as error:
            raise self._page_failed(error) from None
        self.result.requests += requests
        end = window_end(self.stream.path, now, self.options.max_clock_skew)
        self.until = None if end is None else format_cursor(end - self.options.window_margin)
        self.newest_in_run = self.until

    def _page_failed(self, error: FetchError) -> StreamFailed:
        return StreamFailed(f"stream {self.stream.path}: page {error.url}: {error.problem}")

    def _first_url(self, count: bool = False) -> str:
        learned = None if self.full_refresh else self.state.page_size
        since = self.start_cursor
        if since is not None:
            since = shifted_cursor(since, -self.options.window_overlap)
        if since is not None and self.until is not None and since > self.until:
            raise StreamFailed(
                f"stream {self.stream.path}: window {since}..{self.until} is inverted (the "
                "stored cursor is ahead of the API's clock); nothing was asked"
            )
        return first_page_url(self.client, self.stream, since, self.until, learned, count)

    def _land_page(self, chain: PageChain) -> None:
        """Fetch and buffer the chain's next page, move the chain on (its window may be cut,
        see :mod:`.window_cuts`) and commit the batch when full."""
        assert chain.url is not None and self.runner is not None
        refused = chain.walk.asking(chain.url)
        if refused is not None:
            raise _LinkRefused(f"stream {self.stream.path}: stopped paging: {refused}")
        page = self._fetch(chain)
        with self.lock:
            chain.resumed = False
            self.result.requests += page.requests
            self.result.pages += 1
            self.page_size = page.page_size
            if page.rate_limit_remaining is not None:
                self.result.rate_limit_remaining = page.rate_limit_remaining
            self.buffer.add(chain.unread(page.content))
            # Once cut, a chain's count is its part's, not the stream's.
            whole = page.count if self.runner.chains == 1 else None
            self.progress.page_read(self.stream.path, page.records, whole)
            refused = chain.walk.read(page)
            if refused is not None:
                raise _LinkRefused(f"stream {self.stream.path}: stopped paging: {refused}")
            chain.url = self.cutter.next_url(chain, page, self.runner)
            if self.buffer.full:
                self._commit()

    def _converted(self, document: Document) -> pa.Table:
        return self.converter.convert(document.resources, self.synced_at)

    def _fetch(self, chain: PageChain) -> FetchedPage[pa.Table]:
        url = chain.url
        assert url is not None
        try:
            return self.client.read_page(
                url, self._converted, shrink_on_bad_gateway=True, decoding=self.decoding
            )
        except BadRecord as error:
            raise StreamFailed(f"stream {self.stream.path}: page {url}: {error}") from None
        except UnsafeUrl as error:
            raise _LinkRefused(f"stream {self.stream.path}: next page {error}") from None
        except FetchError as error:
            if chain.resumed and error.status is not None and 400 <= error.status < 500:
                log.warning(
                    "%s: saved resume link refused (%s); restarting", self.stream.path, error
                )
                raise _ResumeLinkRefused from None
            if isinstance(error, ApiUnusable):
                raise
            raise self._page_failed(error) from None

    def _commit(self, finished: bool = False, resume: bool = True) -> None:
        """Hand the buffered batch, with the state that goes with it, to the database's
        writer thread: it lands both in one transaction while the next pages are fetched.
        At most one batch per stream is in flight, which bounds memory; the last one
        (``finished``: every chain read through) is waited for. The state saves the next
        page of every unfinished chain; without ``resume`` the rows land but the state keeps
        no resume point: the next run reads the window again from the cursor."""
        with self.lock:
            # First: when the batch before failed, nothing after it may land, or its state
            # would say its pages were in.
            self.wait_for_landing()
            newest = self.buffer.take_newest()
            if self.until is None and newest is not None:
                self.newest_in_run = _later(self.newest_in_run, min(newest, newest_allowed()))
            batch = self.buffer.take()
            if finished:
                new_state = replace(
                    self.state,
                    cursor=_later(self.state.cursor, self.newest_in_run)
                    if self.stream.incremental
                    else None,
                    last_swept_at=self.state.last_swept_at or self.sweep_baseline,
                    page_size=self._learned_page_size(),
                ).going_on_from([], None)
            else:
                links = self.runner.pending() if resume and self.runner is not None else []
                new_state = replace(self.state, page_size=self._learned_page_size()).going_on_from(
                    links, self.newest_in_run
                )
            landing = self.database.submit(lambda con: self._land(con, batch, new_state, finished))
            self._landing = (landing, new_state)
            self.state = new_state
            if finished:
                self.wait_for_landing()

    def _learned_page_size(self) -> int | None:
        """The size the API last served, when a 502 made it smaller than the catalog's."""
        if self.page_size is not None and self.page_size < self.stream.page_size:
            return self.page_size
        return None

    def wait_for_landing(self) -> None:
        """Wait for the batch in flight; its failure fails the stream, naming the problem
        (again for every chain that commits after it)."""
        if self._landing_failed is not None:
            raise self._landing_failed
        if self._landing is None:
            return
        (landing, state), self._landing = self._landing, None
        try:
            counts = landing.result()
        except Exception as error:  # whatever stopped the write stops the stream
            self._landing_failed = _LandingFailed(
                f"stream {self.stream.path}: landing a batch in {self.database.path}: {error}"
            )
            raise self._landing_failed from None
        self.result.records_inserted += counts.inserted
        self.result.records_updated += counts.updated
        self.result.records_deleted += counts.deleted
        self.result.cursor_after = state.cursor
        # Arrow's allocator keeps freed memory for reuse; hand it back so memory stays flat.
        pa.default_memory_pool().release_unused()

    def _land(
        self,
        con: duckdb.DuckDBPyConnection,
        batch: pa.Table | None,
        state: StreamState,
        finished: bool,
    ) -> WriteCounts:
        counts = WriteCounts()
        if self.stream.incremental:
            if batch is not None:
                counts = upsert(con, self.stream, batch, history=self.history)
        else:
            if batch is not None:
                stage(con, self.stream, batch)
            if finished:
                counts = replace_from_stage(con, self.stream)
        save_state(con, self.stream.path, state)
        return counts
