"""Full and incremental syncs against the emulator land exactly the emulator's data."""

from __future__ import annotations

from pathlib import Path

import duckdb
import httpx
import pytest

from outreach_emulator import Emulator
from outreach_pipeline.auth import ReauthorizationRequired
from outreach_pipeline.catalog import catalog, stream
from outreach_pipeline.sync import SyncOptions
from tests.sync.support import assert_landing_equals_emulator


def _by_stream(results):
    return {r.stream: r for r in results}


def test_full_then_incremental_equals_the_emulator(emulator: Emulator, sync, db_path: Path):
    first = _by_stream(sync(emulator))
    assert all(r.ok for r in first.values()), [r.error for r in first.values() if r.error]
    assert_landing_equals_emulator(emulator, db_path)
    full_requests = sum(r.requests for r in first.values())

    emulator.clock.advance(60)
    created = emulator.data.create("prospects", {"firstName": "New", "lastName": "Person"})
    emulator.data.update("accounts", 3, {"name": "Renamed Inc"}, {"owner": 2})
    emulator.data.delete("tasks", 5)
    emulator.data.delete("duties", 2)
    emulator.data.create("events", {"name": "prospect_updated"})

    second = _by_stream(sync(emulator, sweep_deletes=True))
    assert all(r.ok for r in second.values())
    assert_landing_equals_emulator(emulator, db_path)
    assert second["prospects"].records_inserted == 1
    assert second["accounts"].records_updated >= 1
    assert second["tasks"].records_deleted == 1
    assert second["duties"].records_deleted == 1
    assert second["events"].records_inserted == 1
    assert second["prospects"].cursor_after > first["prospects"].cursor_after
    with duckdb.connect(str(db_path), read_only=True) as con:
        deleted = con.execute("SELECT _deleted_at FROM outreach.tasks WHERE id = 5").fetchone()
        in_view = con.execute("SELECT count(*) FROM main.tasks WHERE id = 5").fetchone()
        new = con.execute("SELECT first_name FROM prospects WHERE id = ?", [created["id"]])
        assert new.fetchone() == ("New",)
    assert deleted is not None and deleted[0] is not None
    assert in_view == (0,)

    third = _by_stream(sync(emulator, options=SyncOptions(sweep_interval=None)))
    incremental_requests = sum(r.requests for r in third.values())
    assert incremental_requests <= len(third) + 2  # one page per stream, all but empty
    assert full_requests >= len(third)
    assert sum(r.records_inserted for r in third.values()) == 0


def test_streams_off_by_default_sync_when_named_without_their_secrets(
    emulator: Emulator, sync, db_path: Path
):
    secret = "whsec-h18a-never-in-the-file"
    emulator.data.update("webhooks", 1, {"secret": secret, "url": "https://hooks.example.com"})
    off = [s for s in catalog().values() if not s.default]
    assert {s.path for s in off} == {"complianceRequests", "webhooks"}

    unnamed = _by_stream(sync(emulator))
    assert unnamed.keys().isdisjoint(s.path for s in off)
    named = _by_stream(sync(emulator, off))
    assert all(r.ok for r in named.values()) and named["webhooks"].records == 2
    assert_landing_equals_emulator(emulator, db_path, off)
    with duckdb.connect(str(db_path)) as con:
        assert con.execute("SELECT url, _extra FROM outreach.webhooks WHERE id = 1").fetchone() == (
            "https://hooks.example.com",
            None,
        )
        con.execute("CHECKPOINT")
    assert secret.encode() not in db_path.read_bytes()


def test_a_deleted_record_that_comes_back_is_cleared(emulator: Emulator, sync, db_path: Path):
    prospects = [stream("prospects")]
    sync(emulator, prospects)
    emulator.data.delete("prospects", 7)
    sync(emulator, prospects, sweep_deletes=True)
    with duckdb.connect(str(db_path)) as con:
        # The record reappears in the API: the sweep lists it again and clears the mark.
        con.execute("UPDATE outreach.prospects SET _deleted_at = now() WHERE id = 8")
    sync(emulator, prospects, sweep_deletes=True)
    with duckdb.connect(str(db_path), read_only=True) as con:
        marks = dict(
            con.execute(
                "SELECT id, _deleted_at IS NOT NULL FROM outreach.prospects WHERE id IN (7, 8)"
            ).fetchall()
        )
    assert marks == {7: True, 8: False}


def test_sync_runs_and_views(emulator: Emulator, sync, db_path: Path):
    sync(emulator, [stream("users"), stream("duties")])
    with duckdb.connect(str(db_path), read_only=True) as con:
        runs = con.execute(
            "SELECT stream, records_inserted, requests, pages, cursor_after IS NOT NULL, error "
            "FROM outreach.sync_runs ORDER BY stream"
        ).fetchall()
        users = con.execute("SELECT count(*) FROM users").fetchone()
    # users, the only incremental stream, also paid the request that read the API's time.
    assert runs == [("duties", 10, 1, 1, False, None), ("users", 5, 2, 1, True, None)]
    assert users == (5,)


def test_attribute_and_relationship_on_one_column_name(emulator: Emulator, sync, db_path: Path):
    """mailboxes: attribute userId and relationship user both snake to user_id."""
    emulator.data.update("mailboxes", 1, {"userId": 4242}, {"user": 3})
    sync(emulator, [stream("mailboxes")])
    with duckdb.connect(str(db_path), read_only=True) as con:
        row = con.execute("SELECT user_id, user_id_attr FROM mailboxes WHERE id = 1").fetchone()
    assert row == (3, 4242)


def test_reauthorization_required_propagates(emulator: Emulator, sync):
    class DeadGrant(httpx.Auth):
        def auth_flow(self, request):
            raise ReauthorizationRequired("the grant was revoked")
            yield request

    with pytest.raises(ReauthorizationRequired):
        sync(emulator, [stream("users"), stream("prospects")], auth=DeadGrant())
