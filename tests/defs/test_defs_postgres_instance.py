"""The Dagster instance on PostgreSQL (deploy/postgres/dagster.yaml on a throwaway PostgreSQL 15
cluster): two runs of different grants at the same time, each on the multiprocess executor,
each landing exactly its grant's data in its own DuckDB file."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import pytest

from outreach_emulator import Emulator
from outreach_pipeline.catalog import catalog, scopes_for
from outreach_pipeline.defs.grant_health import GRANT_HEALTH_KEY
from outreach_pipeline.defs.grants import GRANTS_NAME
from outreach_pipeline.defs.keys import asset_key
from outreach_pipeline.settings import load_settings
from tests.auth.auth_support import store_issued_grant
from tests.defs.multiprocess_job import multiprocess_nightly
from tests.sync.support import assert_landing_equals_emulator

ROOT = Path(__file__).resolve().parents[2]
GRANTS = ("alpha", "beta")
STREAMS = [catalog()[path] for path in ("users", "accounts", "prospects")]


def run_interval(instance: dg.DagsterInstance, run_id: str) -> tuple[float, float]:
    record = instance.get_run_record_by_id(run_id)
    assert record is not None and record.start_time and record.end_time
    return record.start_time, record.end_time


@pytest.mark.slow  # hung once at a run's end (no RUN_SUCCESS) under load: issue 20 note
def test_two_grants_sync_at_once_on_a_postgres_instance(
    postgres_url: str,
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = urlsplit(postgres_url)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "postgres" / "dagster.yaml", home / "dagster.yaml")
    env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": url.hostname or "",
        "DAGSTER_PG_PORT": str(url.port),
        "DAGSTER_PG_USER": url.username or "",
        "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_DB": url.path.lstrip("/"),
        "OUTREACH_CLIENT_ID": emulator.config.client_id,
        "OUTREACH_CLIENT_SECRET": emulator.config.client_secret,
        "OUTREACH_API_URL": emulator.api_url,
        "OUTREACH_OAUTH_URL": emulator.oauth_url,
        "OUTREACH_TOKEN_STORE": str(tmp_path / "grant.json"),
        "OUTREACH_DUCKDB_PATH": str(tmp_path / "landing.duckdb"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(env=env, dotenv=None)
    for grant in GRANTS:  # two users' grants (of one emulated org)
        store_issued_grant(emulator, settings.for_grant(grant), scopes=scopes_for(STREAMS))

    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        instance.add_dynamic_partitions(GRANTS_NAME, list(GRANTS))
        selection = [*(asset_key(s) for s in STREAMS), GRANT_HEALTH_KEY]
        results: dict[str, tuple[bool, str, str, set[int]]] = {}

        def run(grant: str) -> None:
            with (
                dg.DagsterInstance.get() as own,
                dg.execute_job(
                    dg.reconstructable(multiprocess_nightly),
                    own,
                    tags={"dagster/partition": grant},
                    asset_selection=selection,
                ) as result,
            ):
                step_pids = {e.pid for e in result.all_events if e.is_step_success}
                run = result.dagster_run
                results[grant] = (
                    result.success,
                    run.run_id,
                    run.tags["dagster/partition"],
                    step_pids,
                )

        threads = [threading.Thread(target=run, args=(grant,)) for grant in GRANTS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        assert set(results) == set(GRANTS)
        pids = set()
        for grant, (success, _, partition, step_pids) in results.items():
            assert success, grant
            assert partition == grant
            assert len(step_pids) == 2  # the streams and grant_health, each in its own process
            pids |= step_pids
        assert len(pids) == 4
        (a_start, a_end), (b_start, b_end) = (run_interval(instance, results[g][1]) for g in GRANTS)
        assert a_start < b_end and b_start < a_end, "the two grants' runs did not overlap"
        for grant in GRANTS:
            landing = settings.for_grant(grant).grant_duckdb_path
            assert landing.parent.name == grant
            assert_landing_equals_emulator(emulator, landing, STREAMS)
            (health,) = instance.fetch_materializations(
                dg.AssetRecordsFilter(GRANT_HEALTH_KEY, asset_partitions=[grant]), limit=1
            ).records
            assert health.asset_materialization is not None
            assert health.asset_materialization.metadata["grant"].value == grant
