"""Syncing several grants (issue 20): two ``outreach-pipeline sync --grant`` processes write
their own landings at the same time (one writer lock per database), ``sync --all-grants``
goes on past a revoked grant, and two grants synced in one process spend their own users'
request budgets: a user whose budget is spent does not hold up another user's grant.

Against one emulated org: its users 1 and 2 each authorize a grant, and the emulator counts
requests per user, as Outreach does."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import pytest

from outreach_emulator import Emulator
from outreach_pipeline import cli
from outreach_pipeline.catalog import select
from outreach_pipeline.settings import Settings
from outreach_pipeline.sync import StreamResult, run_sync
from tests.auth.auth_support import settings_from
from tests.reliability.cli_runs import start_cli
from tests.reliability.grants import store_grant_as, stored_grant_env
from tests.sync.support import assert_landing_equals_emulator

STREAMS = "users,duties,stages"


def _finish(child: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = child.communicate(timeout=300)
    return child.returncode, out, err


def _run_span(db_path: Path) -> tuple[float, float]:
    """When the run in ``db_path`` started and finished (epoch seconds, from sync_runs)."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        row = con.execute(
            "SELECT epoch(min(started_at)), epoch(max(finished_at)) FROM outreach.sync_runs"
        ).fetchone()
    assert row is not None
    return float(row[0]), float(row[1])


def test_two_grants_sync_at_once_into_their_own_landings(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator()
    env = stored_grant_env(emulator, tmp_path)
    for grant, user_id in (("one", 1), ("two", 2)):
        store_grant_as(emulator, env, grant, user_id)
    emulator.faults.set(latency=0.3, page_size_limits={"duties": 2})

    children = {
        grant: start_cli(["sync", "--grant", grant, "--streams", STREAMS], env, tmp_path)
        for grant in ("one", "two")
    }
    finished = {grant: _finish(child) for grant, child in children.items()}

    spans = {}
    for grant, (code, out, err) in finished.items():
        assert code == 0, (grant, err)
        assert "waiting for the sync" not in err, err  # neither waited for the other's lock
        db_path = tmp_path / "grants" / grant / "landing.duckdb"
        assert f"into {db_path}" in out, out
        assert (tmp_path / "grants" / grant / "landing.duckdb.sync.lock").exists()
        assert_landing_equals_emulator(emulator, db_path, select(STREAMS))
        spans[grant] = _run_span(db_path)
    (start_one, end_one), (start_two, end_two) = spans["one"], spans["two"]
    assert start_one < end_two and start_two < end_one, spans  # the runs overlapped
    assert not (tmp_path / "landing.duckdb").exists()  # the default grant's was not touched


def test_all_grants_syncs_each_and_goes_on_past_a_revoked_one(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator()
    env = stored_grant_env(emulator, tmp_path)  # the default grant, user 1
    store_grant_as(emulator, env, "acme", 2)
    revoked = store_grant_as(emulator, env, "broken", 3)
    store_grant_as(emulator, env, "zulu", 4)
    emulator.grants.revoke(revoked.access_token.reveal())

    code, out, err = _finish(
        start_cli(["sync", "--all-grants", "--streams", "users"], env, tmp_path)
    )

    assert code == 1, err
    refused = [line for line in err.splitlines() if line.startswith("outreach-pipeline sync:")]
    assert len(refused) == 1 and refused[0].startswith("outreach-pipeline sync: grant broken: "), (
        err
    )
    assert "grants that failed: broken" in err
    # What to run names that grant: a plain `auth login` would log in the default one.
    assert "run `outreach-pipeline auth login --grant broken` to authorize again" in refused[0]
    assert [line for line in err.splitlines() if line.startswith("grant ")] == [
        "grant default:",
        "grant acme:",
        "grant broken:",
        "grant zulu:",
    ]
    for db_path in (
        tmp_path / "landing.duckdb",
        tmp_path / "grants" / "acme" / "landing.duckdb",
        tmp_path / "grants" / "zulu" / "landing.duckdb",
    ):
        assert f"into {db_path}" in out
        assert_landing_equals_emulator(emulator, db_path, select("users"))


def test_all_grants_with_none_stored_is_one_line(tmp_path: Path) -> None:
    env = {"OUTREACH_TOKEN_STORE": str(tmp_path / "grant.json")}
    code, out, err = _finish(start_cli(["sync", "--all-grants"], env, tmp_path))
    assert (code, out) == (2, "")
    assert err == (
        f"outreach-pipeline sync: no grant is stored beside {tmp_path}/grant.json: authorize "
        "one with 'outreach-pipeline auth login --grant NAME'\n"
    )


@pytest.mark.parametrize("name", ["Acme", "../acme", "a b", "-x", ""])
def test_a_bad_grant_name_is_one_line(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OUTREACH_DUCKDB_PATH", str(tmp_path / "landing.duckdb"))

    assert cli.main(["sync", f"--grant={name}"]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"outreach-pipeline sync: --grant: {name!r} is not a grant name")
    assert list(tmp_path.iterdir()) == []


def _spend_budget(emulator: Emulator, access_token: str) -> None:
    """Spend the whole request budget of the user whose token this is."""
    with httpx.Client(headers={"Authorization": f"Bearer {access_token}"}) as client:
        while client.get(f"{emulator.api_url}/stages").status_code != 429:
            pass


def test_a_spent_budget_of_one_user_does_not_hold_up_another_users_grant(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    """Two grants synced in one process at once, as a Dagster run executing in process does
    (one after the other, as ``sync --all-grants`` does, meets the same budget)."""
    emulator = make_emulator(rate_limit=30)
    env = stored_grant_env(emulator, tmp_path)
    spent = store_grant_as(emulator, env, "spent", 1)
    store_grant_as(emulator, env, "fresh", 2)
    _spend_budget(emulator, spent.access_token.reveal())
    settings = settings_from(env)
    stops = {grant: threading.Event() for grant in ("spent", "fresh")}
    results: dict[str, list[StreamResult]] = {}

    def sync(grant: str) -> None:
        results[grant] = run_sync(settings.for_grant(grant), select("users"), stop=stops[grant])

    refused_before = emulator.rate_limiter.refused
    waiting = threading.Thread(target=sync, args=("spent",))
    waiting.start()
    deadline = time.monotonic() + 60
    while emulator.rate_limiter.refused == refused_before:  # its user's budget is known spent
        assert time.monotonic() < deadline and waiting.is_alive(), "the spent grant never asked"
        time.sleep(0.05)
    fresh = threading.Thread(target=sync, args=("fresh",))
    fresh.start()
    fresh.join(timeout=60)
    stops["fresh"].set()
    fresh.join()
    stops["spent"].set()
    waiting.join(timeout=60)

    (result,) = results["fresh"]
    assert result.ok and not result.interrupted, result
    assert_landing_equals_emulator(emulator, _grant_db(settings, "fresh"), select("users"))


def _grant_db(settings: Settings, grant: str) -> Path:
    return settings.for_grant(grant).grant_duckdb_path
