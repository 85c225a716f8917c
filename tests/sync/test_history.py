"""Change history: ``outreach.<table>__history`` holds one row per observed version (SCD 2)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from outreach_emulator import Emulator
from outreach_pipeline.catalog import stream
from outreach_pipeline.sync import SyncOptions
from tests.sync.support import prospect_versions

PROSPECTS = [stream("prospects")]
OPTIONS = SyncOptions(sweep_interval=None, batch_rows=40)

# The query of docs/landing.md: the stage of every prospect as of a moment.
STAGE_AS_OF = """
SELECT id, stage_id
FROM outreach.prospects__history
WHERE valid_from <= $as_of AND (valid_to IS NULL OR valid_to > $as_of)
ORDER BY id
"""


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)


def _stages_as_of(db_path: Path, as_of: datetime) -> dict[int, int | None]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return dict(con.execute(STAGE_AS_OF, {"as_of": as_of}).fetchall())


def test_history_holds_every_observed_version(make_emulator, sync, db_path: Path):
    emu: Emulator = make_emulator()
    emu.faults.set(shuffle_pages=True, ignore_upper_bound=True)
    assert all(r.ok for r in sync(emu, PROSPECTS, options=OPTIONS))
    initial = {int(r["id"]): r for r in emu.data.records("prospects")}
    pid = min(initial)

    versions = [(_moment(initial[pid]["attributes"]["updatedAt"]), initial[pid])]
    newest = max(_moment(r["attributes"]["updatedAt"]) for r in initial.values())
    snapshots = [({i: _stage(r) for i, r in initial.items()}, newest)]
    for round_, stage_id in enumerate([1, 2, 3]):
        emu.clock.advance(3600)
        updated = emu.data.update(
            "prospects", pid, {"firstName": f"Round{round_}"}, {"stage": stage_id}
        )
        versions.append((_moment(updated["attributes"]["updatedAt"]), updated))
        assert all(r.ok for r in sync(emu, PROSPECTS, options=OPTIONS))
        current = {int(r["id"]): _stage(r) for r in emu.data.records("prospects")}
        snapshots.append((current, versions[-1][0]))

    expected = [
        (
            moment,
            versions[n + 1][0] if n + 1 < len(versions) else None,
            _stage(resource),
            resource["attributes"]["firstName"],
        )
        for n, (moment, resource) in enumerate(versions)
    ]
    assert prospect_versions(db_path, pid) == expected
    with duckdb.connect(str(db_path), read_only=True) as con:
        row = con.execute(
            "SELECT count(*), count(DISTINCT (id, valid_from)), count(*) FILTER (valid_to IS NULL)"
            " FROM outreach.prospects__history"
        ).fetchone()
    assert row == (len(initial) + 3, len(initial) + 3, len(initial))

    # Reruns (incremental and full) add nothing.
    assert all(r.ok for r in sync(emu, PROSPECTS, options=OPTIONS))
    assert all(r.ok for r in sync(emu, PROSPECTS, options=OPTIONS, full_refresh=True))
    assert prospect_versions(db_path, pid) == expected

    # As of each sync's newest version, the stages are the API's at that time.
    for stages, moment in snapshots:
        assert _stages_as_of(db_path, moment) == stages
    for (before, _), (_, moment) in itertools.pairwise(snapshots):
        assert _stages_as_of(db_path, moment - timedelta(milliseconds=1)) == before

    # A delete found by the sweep closes the last version.
    emu.data.delete("prospects", pid)
    assert all(r.ok for r in sync(emu, PROSPECTS, options=OPTIONS, sweep_deletes=True))
    last = prospect_versions(db_path, pid)[-1]
    assert last[1] is not None
    assert pid not in _stages_as_of(db_path, datetime(2999, 1, 1))


def test_history_is_off_for_other_streams_and_configurable(emulator: Emulator, sync, db_path):
    options = SyncOptions(history_streams=frozenset({"users"}))
    assert all(r.ok for r in sync(emulator, [stream("users"), *PROSPECTS], options=options))
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = {
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'outreach'"
            ).fetchall()
        }
        users = con.execute("SELECT count(*) FROM outreach.users__history").fetchone()
    assert "users__history" in tables
    assert "prospects__history" not in tables
    assert users == (len(emulator.data.records("users")),)


def _stage(resource: dict) -> int | None:
    data = resource["relationships"]["stage"]["data"]
    return int(data["id"]) if data else None
