"""The Dagster instance on PostgreSQL (deploy/postgres/dagster.yaml on a throwaway PostgreSQL 15
cluster), issue 20's first "done when": three grants in two emulated orgs; two runs of different
grants at the same time, then the third, each on the multiprocess executor in a run process of
its own (tests/defs/grant_run.py); every grant's landing equals its org's data."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import pytest

from outreach_emulator import Emulator, OrgSpec
from outreach_pipeline.catalog import scopes_for
from outreach_pipeline.defs.grant_health import GRANT_HEALTH_KEY
from outreach_pipeline.defs.grants import GRANTS_NAME
from outreach_pipeline.settings import load_settings
from tests.auth.auth_support import store_issued_grant
from tests.defs.grant_run import STREAMS
from tests.sync.support import assert_landing_equals_emulator

ROOT = Path(__file__).resolve().parents[2]
# Different seeds and scales: the orgs' users, accounts and prospects differ, ids and all.
ORGS = (OrgSpec("acme", seed=7, scale=200), OrgSpec("globex", seed=8, scale=120))
GRANTS = {"acme-1": ("acme", 1), "acme-2": ("acme", 2), "globex-1": ("globex", 1)}
AT_ONCE = ("acme-1", "globex-1")
THEN = "acme-2"
RUN_TIMEOUT = 120.0  # seconds for a run process, from its start; a run takes 9-13 s on 2 idle cores


def postgres_instance_env(postgres_url: str, home: Path) -> dict[str, str]:
    """``DAGSTER_HOME`` holding deploy/postgres/dagster.yaml, and its ``DAGSTER_PG_*``."""
    url = urlsplit(postgres_url)
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "postgres" / "dagster.yaml", home / "dagster.yaml")
    return {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": url.hostname or "",
        "DAGSTER_PG_PORT": str(url.port),
        "DAGSTER_PG_USER": url.username or "",
        "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_DB": url.path.lstrip("/"),
    }


def grant_run(instance: dg.DagsterInstance, grant: str) -> dg.DagsterRun | None:
    """The run of ``grant``'s partition, None before it is created; two is an error."""
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": grant}))
    assert len(runs) <= 1, f"{grant}: {len(runs)} runs, expected one"
    return runs[0] if runs else None


def last_events(instance: dg.DagsterInstance, grant: str, count: int = 15) -> str:
    """The last ``count`` events of ``grant``'s run, one a line (for failure messages)."""
    run = grant_run(instance, grant)
    if run is None:
        return "(no run was created)"
    lines = [
        f"{e.dagster_event_type.value if e.dagster_event_type else 'log'} "
        f"{e.step_key or '-'}: {e.message[:160]}"
        for e in instance.all_logs(run.run_id)[-count:]
    ]
    return f"run {run.run_id} ({run.status.value}):\n  " + "\n  ".join(lines)


class RunProcesses:
    """Grants' runs, each in a process (group) of its own writing to ``logs/<grant>.log``;
    :meth:`finish` waits for one up to ``RUN_TIMEOUT`` from its start and fails naming the
    grant, with its run's last events and output, when it did not end or did not succeed.
    :meth:`kill` ends whatever still runs, step processes included."""

    def __init__(self, instance: dg.DagsterInstance, logs: Path) -> None:
        self.instance = instance
        self.logs = logs
        logs.mkdir()
        self.running: dict[str, tuple[subprocess.Popen[bytes], float]] = {}

    def start(self, grant: str) -> None:
        with (self.logs / f"{grant}.log").open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.defs.grant_run", grant],
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running[grant] = (process, time.monotonic())

    def finish(self, grant: str) -> int:
        """Wait for ``grant``'s run process; its pid (the run worker's)."""
        process, started = self.running[grant]
        try:
            code = process.wait(timeout=max(0.0, started + RUN_TIMEOUT - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(
                f"{grant}: the run process did not end within {RUN_TIMEOUT:.0f} s\n"
                f"{last_events(self.instance, grant)}\n{self.output(grant)}"
            )
        del self.running[grant]
        if code != 0:
            self.kill()
            pytest.fail(
                f"{grant}: the run process exited {code}\n"
                f"{last_events(self.instance, grant)}\n{self.output(grant)}"
            )
        return process.pid

    def output(self, grant: str, chars: int = 3000) -> str:
        text = (self.logs / f"{grant}.log").read_text(errors="replace")
        return f"its output's end:\n{text[-chars:]}"

    def kill(self) -> None:
        for process, _ in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        self.running.clear()


def step_pids(instance: dg.DagsterInstance, run_id: str) -> set[int]:
    """The processes whose steps of ``run_id`` succeeded."""
    events = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
    return {e.dagster_event.pid for e in events if e.dagster_event and e.dagster_event.pid}


def test_three_grants_of_two_orgs_sync_on_a_postgres_instance(
    postgres_url: str,
    make_emulator: Callable[..., Emulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = make_emulator(orgs=ORGS)
    env = {
        **postgres_instance_env(postgres_url, tmp_path / "dagster_home"),
        "OUTREACH_CLIENT_ID": emulator.config.client_id,
        "OUTREACH_CLIENT_SECRET": emulator.config.client_secret,
        "OUTREACH_API_URL": emulator.api_url,
        "OUTREACH_OAUTH_URL": emulator.oauth_url,
        "OUTREACH_TOKEN_STORE": str(tmp_path / "grant.json"),
        "OUTREACH_DUCKDB_PATH": str(tmp_path / "landing.duckdb"),
    }
    for name, value in env.items():  # the run processes inherit it
        monkeypatch.setenv(name, value)
    settings = load_settings(env=env, dotenv=None)
    for grant, (org, user_id) in GRANTS.items():
        store_issued_grant(
            emulator,
            settings.for_grant(grant),
            scopes=scopes_for(STREAMS),
            user_id=user_id,
            org=org,
        )

    with dg.DagsterInstance.get() as instance:
        storages = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)
        assert [type(s).__name__ for s in storages] == [
            "PostgresRunStorage",
            "PostgresEventLogStorage",
            "PostgresScheduleStorage",
        ]
        instance.add_dynamic_partitions(GRANTS_NAME, list(GRANTS))
        runs = RunProcesses(instance, tmp_path / "run_logs")
        try:
            for grant in AT_ONCE:
                runs.start(grant)
            worker_pids = {grant: runs.finish(grant) for grant in AT_ONCE}
            runs.start(THEN)
            worker_pids[THEN] = runs.finish(THEN)
        finally:
            runs.kill()

        records = {}
        all_step_pids: set[int] = set()
        for grant in GRANTS:
            run = grant_run(instance, grant)
            assert run is not None, f"{grant}: no run in the PostgreSQL instance"
            assert run.status == dg.DagsterRunStatus.SUCCESS, last_events(instance, grant)
            record = instance.get_run_record_by_id(run.run_id)
            assert record is not None and record.start_time and record.end_time
            records[grant] = record
            pids = step_pids(instance, run.run_id)
            # The streams and grant_health, each in a process of its own under the run's.
            assert len(pids) == 2 and worker_pids[grant] not in pids, (grant, pids)
            all_step_pids |= pids
        assert len(all_step_pids) == 2 * len(GRANTS)
        first, second = (records[grant] for grant in AT_ONCE)
        assert first.start_time < second.end_time and second.start_time < first.end_time, (
            f"the runs of {AT_ONCE} did not overlap: "
            f"{first.start_time}-{first.end_time}, {second.start_time}-{second.end_time}"
        )

        landings = set()
        for grant, (org, _) in GRANTS.items():
            landing = settings.for_grant(grant).grant_duckdb_path
            assert landing.parent.name == grant
            landings.add(landing)
            assert_landing_equals_emulator(emulator, landing, STREAMS, org=org)
            (health,) = instance.fetch_materializations(
                dg.AssetRecordsFilter(GRANT_HEALTH_KEY, asset_partitions=[grant]), limit=1
            ).records
            assert health.asset_materialization is not None
            assert health.asset_materialization.metadata["grant"].value == grant
        assert len(landings) == len(GRANTS)
