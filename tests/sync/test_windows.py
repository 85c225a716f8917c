"""Incremental windows: each run reads ``cursor - overlap .. server time - margin`` and the
cursor moves to the window's end, whatever the records say."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import duckdb

from outreach_emulator.clock import iso_ms
from outreach_pipeline.catalog import stream
from outreach_pipeline.landing import load_state
from outreach_pipeline.sync import SyncOptions
from tests.sync.support import assert_landing_equals_emulator

PROSPECTS = [stream("prospects")]


def _cursor(db_path: Path) -> str | None:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return load_state(con, "prospects").cursor


def _versions(db_path: Path, record_id: int) -> int:
    with duckdb.connect(str(db_path), read_only=True) as con:
        row = con.execute(
            "SELECT count(*) FROM outreach.prospects__history WHERE id = ?", [record_id]
        ).fetchone()
    return int(row[0]) if row else 0


def _at_offset(emu, seconds: float, change) -> None:
    """Make ``change`` with the emulator's clock ``seconds`` away from now, then put it back."""
    emu.clock.advance(seconds)
    try:
        change()
    finally:
        emu.clock.advance(-seconds)


def test_records_past_an_ignored_upper_bound_land_but_do_not_move_the_cursor(
    make_emulator, sync, db_path: Path
):
    frozen = float(int(time.time()))
    emu = make_emulator(seed=11, clock_frozen_at=frozen)
    emu.faults.set(ignore_upper_bound=True, shuffle_pages=True)
    sync(emu, PROSPECTS)  # the fixture moves the clock 2 s on: the window ends 1 s before
    # The server's clock is its last Date moved on by this host's monotonic clock: a loaded
    # host may add milliseconds between the answer and the window's start.
    assert iso_ms(int(frozen + 1) * 1000) <= _cursor(db_path) < iso_ms(int(frozen + 2) * 1000)

    # A record stamped a minute ahead (a server whose clock runs ahead of the Date header):
    # past the next window's end. The API ignores the bound and returns it anyway; it lands,
    # yet the cursor stays at the window's end.
    _at_offset(emu, 60, lambda: emu.data.update("prospects", 3, {"title": "Past The Window"}))
    results = sync(emu, PROSPECTS)
    assert results[0].ok, results[0].error
    changed_at = emu.data.resource("prospects", 3)["attributes"]["updatedAt"]
    cursor = _cursor(db_path)
    assert cursor is not None and cursor < changed_at
    assert_landing_equals_emulator(emu, db_path, PROSPECTS)

    # The next run gets it again past its window: upserted again, no second version.
    sync(emu, PROSPECTS)
    assert _versions(db_path, 3) == 2
    assert _cursor(db_path) < changed_at
    assert_landing_equals_emulator(emu, db_path, PROSPECTS)


def test_a_late_write_below_the_cursor_is_caught_by_the_overlap(make_emulator, sync, db_path: Path):
    """A record that becomes visible after the cursor passed its updatedAt (written late,
    replicated late) is re-read by the overlap; without one it would be lost until a sweep."""
    emu = make_emulator(seed=12)
    sync(emu, PROSPECTS)
    cursor = _cursor(db_path)
    assert cursor is not None
    _at_offset(emu, -30, lambda: emu.data.update("prospects", 5, {"title": "Late Writer"}))
    late = emu.data.resource("prospects", 5)["attributes"]["updatedAt"]
    assert late < cursor

    sync(emu, PROSPECTS, options=SyncOptions(window_overlap=timedelta(0)))
    with duckdb.connect(str(db_path), read_only=True) as con:
        title = con.execute("SELECT title FROM outreach.prospects WHERE id = 5").fetchone()
    assert title != ("Late Writer",), "without overlap the late write is missed"

    sync(emu, PROSPECTS, options=SyncOptions(window_overlap=timedelta(minutes=2)))
    assert_landing_equals_emulator(emu, db_path, PROSPECTS)
