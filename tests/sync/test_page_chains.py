"""A long window read as several chains of pages at once (sync/page_chains.py): the same rows
as one chain, each chain's link saved and resumed, never more chains than allowed."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import duckdb

from outreach_pipeline.catalog import stream
from outreach_pipeline.landing import load_state
from outreach_pipeline.sync import SyncOptions
from outreach_pipeline.sync.page_chains import HelperSlots
from outreach_pipeline.sync.progress import SyncProgress
from tests.sync.support import assert_landing_equals_emulator

# 200 prospects at 10 a page: 20 pages, long enough to be cut at chain_min_pages=2.
PROSPECTS = [replace(stream("prospects"), page_size=10)]
CUTTING = SyncOptions(chain_min_pages=2)


def _state(db_path: Path):
    with duckdb.connect(str(db_path), read_only=True) as con:
        return load_state(con, "prospects")


def _runs(db_path: Path) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(
            "SELECT pages, chains, error FROM outreach.sync_runs ORDER BY started_at"
        ).fetchall()


def test_a_long_window_is_read_as_several_chains_landing_every_record_once(
    emulator, sync, db_path: Path
):
    # A batch a page: a record landed again would be in a later batch than its first landing.
    [result] = sync(emulator, PROSPECTS, options=replace(CUTTING, batch_rows=10))
    assert result.ok, result.error
    assert 2 < result.chains <= 2 * CUTTING.chains_per_stream
    # Cutting costs at most a partial page per chain, not a second read of the window.
    assert result.pages <= 20 + result.chains
    # The records a cut chain reads again where it restarts are not landed twice: a first
    # load only inserts (a second landing would delete rows the load just wrote).
    assert (result.records_inserted, result.records_updated) == (200, 0)
    assert_landing_equals_emulator(emulator, db_path, PROSPECTS)
    state = _state(db_path)
    assert state.resume_links == () and state.cursor == result.cursor_after
    assert _runs(db_path) == [(result.pages, result.chains, None)]


def test_a_short_window_and_an_incremental_run_are_one_chain(emulator, sync, db_path: Path):
    [first] = sync(emulator, PROSPECTS, options=SyncOptions(chain_min_pages=20))
    assert first.ok and first.chains == 1
    for record_id in range(1, 31):
        emulator.data.update("prospects", record_id, {"title": f"title {record_id}"})
    [second] = sync(emulator, PROSPECTS, options=CUTTING)
    assert second.ok and second.chains == 1
    assert_landing_equals_emulator(emulator, db_path, PROSPECTS)


class _StopAfter(SyncProgress):
    def __init__(self, pages: int, stop: threading.Event) -> None:
        self.pages, self.stop = pages, stop

    def page_read(self, stream: str, records: int, count: int | None) -> None:
        self.pages -= 1
        if self.pages <= 0:
            self.stop.set()


def test_an_interrupted_cut_run_saves_every_chains_link_and_the_rerun_finishes_them(
    emulator, sync, db_path: Path
):
    stop = threading.Event()
    options = replace(CUTTING, batch_rows=10)
    [stopped] = sync(emulator, PROSPECTS, options=options, stop=stop, progress=_StopAfter(6, stop))
    assert stopped.interrupted and stopped.chains > 1
    saved = _state(db_path)
    assert len(saved.resume_links) > 1, saved
    assert saved.cursor is None and saved.resume_cursor is not None
    [resumed] = sync(emulator, PROSPECTS, options=options)
    assert resumed.ok, resumed.error
    # The rerun reads on from the saved links: together no more than a cut run's pages.
    assert stopped.pages + resumed.pages <= 20 + stopped.chains + resumed.chains
    assert_landing_equals_emulator(emulator, db_path, PROSPECTS)
    assert _state(db_path).resume_links == ()


def test_a_free_helper_goes_to_the_stream_asking_with_the_most_pages():
    slots = HelperSlots(1)
    started: list[str] = []
    slots.ask(5, lambda: started.append("first"))
    slots.ask(3, lambda: started.append("small"))
    slots.ask(9, lambda: started.append("large"))
    assert started == ["first"]  # one slot, lent at once while free
    slots.give_back()
    assert started == ["first", "large"]
    slots.give_back()
    assert started == ["first", "large", "small"]


def test_unreadable_saved_links_start_the_window_over_and_lose_nothing(
    emulator, sync, db_path: Path
):
    stop = threading.Event()
    options = replace(CUTTING, batch_rows=10)
    sync(emulator, PROSPECTS, options=options, stop=stop, progress=_StopAfter(6, stop))
    assert len(_state(db_path).resume_links) > 1
    with duckdb.connect(str(db_path)) as con:
        con.execute("UPDATE outreach._sync_state SET resume_more = '{not json' ")
    assert _state(db_path).resume_links == ()
    [again] = sync(emulator, PROSPECTS, options=options)
    assert again.ok, again.error
    assert_landing_equals_emulator(emulator, db_path, PROSPECTS)
