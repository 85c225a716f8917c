"""To-many relationships land in bridge tables ``outreach.<stream>__<relationship>``, replaced
per parent on each upsert, so the landing holds exactly the emulator's relationships."""

from __future__ import annotations

from pathlib import Path

import duckdb

from outreach_emulator import Emulator
from outreach_pipeline.catalog import Stream, catalog, stream
from outreach_pipeline.landing.schema import bridges
from outreach_pipeline.sync import SyncOptions


def _to_many_streams() -> list[Stream]:
    return [s for s in catalog().values() if s.to_many]


def assert_bridges_equal(emu: Emulator, db_path: Path, streams: list[Stream]) -> int:
    """Every parent's every to-many relationship: the bridge rows are the emulator's ids.
    Returns how many links were compared."""
    compared = 0
    with duckdb.connect(str(db_path), read_only=True) as con:
        for s in streams:
            for bridge in bridges(s):
                stored: dict[int, set[int]] = {}
                for parent, target in con.execute(
                    f'SELECT "{bridge.parent_column}", "{bridge.target_column}" '
                    f"FROM {bridge.qualified}"
                ).fetchall():
                    stored.setdefault(parent, set()).add(target)
                expected = {}
                for record in emu.data.records(s.path):
                    data = record["relationships"][bridge.relationship]["data"]
                    if data:
                        expected[int(record["id"])] = {int(item["id"]) for item in data}
                    compared += len(data)
                assert stored == expected, f"{bridge.table} differs from the emulator"
    return compared


def test_bridge_tables_equal_the_emulator_across_syncs(make_emulator, sync, db_path: Path):
    emu: Emulator = make_emulator()
    emu.faults.set(shuffle_pages=True, ignore_upper_bound=True)
    streams = _to_many_streams()
    options = SyncOptions(sweep_interval=None, batch_rows=50)
    assert all(r.ok for r in sync(emu, streams, options=options))
    assert assert_bridges_equal(emu, db_path, streams) > 0

    prospect = emu.data.records("prospects")[0]
    pid = int(prospect["id"])
    before = [int(i["id"]) for i in prospect["relationships"]["emailAddresses"]["data"]]
    assert before, "the seed gives the first prospect email addresses"
    emu.clock.advance(120)
    # A link removed, one added, one relationship emptied.
    emu.data.update(
        "prospects",
        pid,
        {"firstName": "Relinked"},
        {"emailAddresses": [*before[1:], 999_999], "phoneNumbers": []},
    )
    user = emu.data.records("users")[0]
    emu.data.update("users", int(user["id"]), {}, {"teams": [1, 2]})
    assert all(r.ok for r in sync(emu, streams, options=options))
    assert_bridges_equal(emu, db_path, streams)

    with duckdb.connect(str(db_path), read_only=True) as con:
        emails = con.execute(
            "SELECT email_address_id FROM prospects__email_addresses "
            "WHERE prospect_id = ? ORDER BY 1",
            [pid],
        ).fetchall()
        phones = con.execute(
            "SELECT count(*) FROM outreach.prospects__phone_numbers WHERE prospect_id = ?", [pid]
        ).fetchone()
        teams = con.execute(
            "SELECT team_id FROM users__teams WHERE user_id = ? ORDER BY 1", [int(user["id"])]
        ).fetchall()
    assert [e for (e,) in emails] == sorted([*before[1:], 999_999])
    assert phones == (0,)
    assert teams == [(1,), (2,)]

    # A rerun from scratch changes nothing; a swept delete hides the parent's links in the view.
    assert all(r.ok for r in sync(emu, streams, options=options, full_refresh=True))
    assert_bridges_equal(emu, db_path, streams)
    emu.data.delete("prospects", pid)
    assert all(r.ok for r in sync(emu, [stream("prospects")], sweep_deletes=True))
    with duckdb.connect(str(db_path), read_only=True) as con:
        in_view = con.execute(
            "SELECT count(*) FROM prospects__email_addresses WHERE prospect_id = ?", [pid]
        ).fetchone()
        kept = con.execute(
            "SELECT count(*) FROM outreach.prospects__email_addresses WHERE prospect_id = ?",
            [pid],
        ).fetchone()
    assert in_view == (0,)
    assert kept == (len(before),)


def test_bridge_columns_are_named_after_both_types():
    names = {(b.table, b.parent_column, b.target_column) for b in bridges(stream("prospects"))}
    assert ("prospects__email_addresses", "prospect_id", "email_address_id") in names
    assert ("prospects__opportunities", "prospect_id", "opportunity_id") in names
    users = {b.table: b for b in bridges(stream("users"))}
    assert (users["users__teams"].parent_column, users["users__teams"].target_column) == (
        "user_id",
        "team_id",
    )


def test_the_documented_join_runs(emulator: Emulator, sync, db_path: Path):
    assert all(r.ok for r in sync(emulator, [stream("prospects"), stream("emailAddresses")]))
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute(
            "SELECT p.id, p.first_name, e.email FROM prospects p "
            "JOIN prospects__email_addresses pe ON pe.prospect_id = p.id "
            "JOIN email_addresses e ON e.id = pe.email_address_id"
        ).fetchall()
    expected = {
        (int(p["id"]), int(e["id"]))
        for p in emulator.data.records("prospects")
        for e in p["relationships"]["emailAddresses"]["data"]
    }
    assert len(rows) == len(expected) > 0
