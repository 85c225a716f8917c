"""The fingerprint sweep: changes that leave ``updatedAt`` alone are missed by incremental
syncs and found by the sweep, for the price of its listing plus a few re-fetch pages."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from outreach_emulator import Emulator
from outreach_pipeline.catalog import stream
from outreach_pipeline.landing.fingerprints import Fingerprint
from outreach_pipeline.landing.schema import SYNC_RUNS_SQL
from outreach_pipeline.sync import SyncOptions
from outreach_pipeline.sync.refetch import id_chunks
from tests.sync.support import assert_landing_equals_emulator, prospect_versions

PROSPECTS = stream("prospects")
OPTIONS = SyncOptions(sweep_interval=None)


def _one(db_path: Path, sql: str, *params: object) -> tuple:
    with duckdb.connect(str(db_path), read_only=True) as con:
        row = con.execute(sql, list(params)).fetchone()
    assert row is not None
    return row


def test_silent_changes_are_missed_by_incremental_syncs_and_found_by_the_sweep(
    emulator: Emulator, sync, db_path: Path
) -> None:
    streams = [PROSPECTS, stream("emailAddresses")]
    sync(emulator, streams, options=OPTIONS)
    emulator.faults.set(shuffle_pages=True, ignore_upper_bound=True)
    before = emulator.data.resource("prospects", 5)["relationships"]
    new_stage = 1 if before["stage"]["data"] != {"type": "stage", "id": 1} else 2
    emulator.data.update("prospects", 5, {}, {"stage": new_stage, "owner": None}, silent=True)
    # A deleted email address drops out of its prospect's list, the prospect unchanged.
    email_id = emulator.data.resource("prospects", 9)["relationships"]["emailAddresses"]["data"][0][
        "id"
    ]
    emulator.data.delete("emailAddresses", email_id)

    sync(emulator, streams, options=OPTIONS)
    assert _one(db_path, "SELECT stage_id FROM prospects WHERE id = 5") != (new_stage,)
    assert _one(
        db_path,
        "SELECT count(*) FROM prospects__email_addresses WHERE email_address_id = ?",
        email_id,
    ) == (1,)

    swept = {r.stream: r for r in sync(emulator, streams, options=OPTIONS, sweep_deletes=True)}
    assert swept["prospects"].records_refetched == 2
    assert swept["emailAddresses"].records_deleted == 1
    assert_landing_equals_emulator(emulator, db_path, streams)
    linked = _one(
        db_path,
        "SELECT list_sort(list(email_address_id)) FROM prospects__email_addresses "
        "WHERE prospect_id = 9",
    )[0]
    served = emulator.data.resource("prospects", 9)["relationships"]["emailAddresses"]["data"]
    assert linked == sorted(e["id"] for e in served)
    assert _one(
        db_path,
        "SELECT records_refetched FROM outreach.sync_runs WHERE stream = 'prospects' "
        "ORDER BY finished_at DESC LIMIT 1",
    ) == (2,)

    again = {r.stream: r for r in sync(emulator, streams, options=OPTIONS, sweep_deletes=True)}
    assert again["prospects"].records_refetched == 0


def test_the_sweep_costs_its_listing_plus_one_request_per_chunk(
    emulator: Emulator, sync, db_path: Path
) -> None:
    sync(emulator, [PROSPECTS], options=OPTIONS)
    listing_pages = -(-len(emulator.data.ids("prospects")) // OPTIONS.sweep_page_size)
    (plain,) = sync(emulator, [PROSPECTS], options=OPTIONS)
    (ids_only,) = sync(
        emulator,
        [PROSPECTS],
        options=SyncOptions(sweep_interval=None, fingerprint_sweep=False),
        sweep_deletes=True,
    )
    (unchanged,) = sync(emulator, [PROSPECTS], options=OPTIONS, sweep_deletes=True)
    assert ids_only.requests == unchanged.requests == plain.requests + listing_pages

    changed = list(range(1, 31))
    for record_id in changed:
        emulator.data.update("prospects", record_id, {}, {"owner": None}, silent=True)
    (swept,) = sync(emulator, [PROSPECTS], options=OPTIONS, sweep_deletes=True)
    assert swept.records_refetched == len(changed)
    assert swept.requests == plain.requests + listing_pages + 1
    assert_landing_equals_emulator(emulator, db_path, [PROSPECTS])


def test_id_chunks_bound_ids_and_url_length() -> None:
    ids = list(range(1, 2001))
    by_count = list(id_chunks(ids, 300))
    assert [len(c) for c in by_count] == [300] * 6 + [200]
    by_chars = list(id_chunks(ids, 1000, chars=100))
    assert all(len(",".join(map(str, c))) <= 100 for c in by_chars)
    assert [i for c in by_chars for i in c] == ids


def test_history_gets_a_silent_change_once(emulator: Emulator, sync, db_path: Path) -> None:
    sync(emulator, [PROSPECTS], options=OPTIONS)
    (first,) = prospect_versions(db_path, 5)
    old_stage = first[2]
    new_stage = 1 if old_stage != 1 else 2
    emulator.clock.advance(3600)
    emulator.data.update("prospects", 5, {}, {"stage": new_stage}, silent=True)
    sync(emulator, [PROSPECTS], options=OPTIONS, sweep_deletes=True)
    versions = prospect_versions(db_path, 5)
    assert [v[2] for v in versions] == [old_stage, new_stage]
    assert versions[0][1] == versions[1][0] > versions[0][0]
    assert versions[1][1] is None

    sync(emulator, [PROSPECTS], options=OPTIONS, sweep_deletes=True)
    sync(emulator, [PROSPECTS], options=OPTIONS, full_refresh=True)
    assert prospect_versions(db_path, 5) == versions

    emulator.clock.advance(3600)
    emulator.data.update("prospects", 5, {}, {"stage": old_stage})
    sync(emulator, [PROSPECTS], options=OPTIONS)
    assert [v[2] for v in prospect_versions(db_path, 5)] == [old_stage, new_stage, old_stage]


def test_an_api_refusing_the_fingerprint_fields_is_swept_by_ids(
    emulator: Emulator, sync, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync(emulator, [PROSPECTS], options=OPTIONS)
    refused = Fingerprint(("noSuchField",), (), ())
    monkeypatch.setattr(
        "outreach_pipeline.sync.sweep_listing.fingerprint_of", lambda _stream: refused
    )
    emulator.data.delete("prospects", 3)
    (swept,) = sync(emulator, [PROSPECTS], options=OPTIONS, sweep_deletes=True)
    assert swept.ok and swept.records_deleted == 1 and swept.records_refetched == 0


def test_a_database_from_before_records_refetched_still_opens(
    emulator: Emulator, sync, db_path: Path
) -> None:
    with duckdb.connect(str(db_path)) as con:
        con.execute("CREATE SCHEMA outreach")
        con.execute(SYNC_RUNS_SQL)
        con.execute(
            "INSERT INTO outreach.sync_runs VALUES ('old', 'users', now(), now(), false, false,"
            " 1, 0, 0, 1, 1, 0.1, NULL, NULL, NULL, NULL)"
        )
    assert all(r.ok for r in sync(emulator, [stream("users")], options=OPTIONS))
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute(
            "SELECT run_id = 'old', records_refetched FROM outreach.sync_runs ORDER BY 1"
        ).fetchall()
    assert rows == [(False, 0), (True, 0)]
