"""``dg dev`` on the repo's workspace against an emulator in another process.

``DagsterDev`` starts webserver, daemon and code server as the README does (``dg dev -w
workspace.yaml``) in their own process group (on a free loopback port, with a temporary
``DAGSTER_HOME`` holding the repo's ``dagster.yaml`` minus its storage paths) and stops them all
with one SIGTERM to the group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import yaml

from outreach_emulator.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from outreach_pipeline.catalog import catalog, scopes_for
from outreach_pipeline.settings import DEFAULT_GRANT, load_settings
from tests.auth.auth_support import store_issued_grant
from tests.sync.processes import EmulatorProcess

ROOT = Path(__file__).resolve().parents[2]
LOCATION = "outreach_pipeline"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AdminGrants:
    """``emulator.grants.issue`` over the admin endpoint of an emulator in another process."""

    def __init__(self, emulator: EmulatorProcess) -> None:
        self._admin = emulator.admin

    def issue(
        self,
        scopes: list[str],
        user_id: int = 1,
        kind: str = "production",
        org: str | None = None,
    ) -> dict[str, Any]:
        body = {"scopes": scopes, "user_id": user_id, "kind": kind, "org": org}
        return self._admin.post("/grants", json=body).json()


def pipeline_env(emulator: EmulatorProcess, workdir: Path) -> dict[str, str]:
    """``OUTREACH_*`` variables pointing at ``emulator``, with a grant already in the store."""
    env = {
        "OUTREACH_API_URL": emulator.api_url,
        "OUTREACH_OAUTH_URL": emulator.base_url + "/oauth",
        "OUTREACH_CLIENT_ID": DEFAULT_CLIENT_ID,
        "OUTREACH_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "OUTREACH_TOKEN_STORE": str(workdir / "grant.json"),
        "OUTREACH_DUCKDB_PATH": str(workdir / "landing.duckdb"),
    }
    settings = load_settings(env=env, dotenv=None)
    remote = SimpleNamespace(grants=AdminGrants(emulator))
    store_issued_grant(remote, settings, scopes=scopes_for(list(catalog().values())))  # type: ignore[arg-type]
    return env


def auth_logout(env: dict[str, str], workdir: Path) -> None:
    """``outreach-pipeline auth logout``, the command itself, with the ``OUTREACH_*`` ``env``."""
    command = [str(Path(sys.executable).parent / "outreach-pipeline"), "auth", "logout"]
    done = subprocess.run(
        command, cwd=workdir, env={**os.environ, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0 and "Forgot the grant" in done.stdout, done.stderr


def instance_home(workdir: Path) -> Path:
    """A DAGSTER_HOME with the repo's instance settings, storage left under the home itself."""
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    for key in ("storage", "local_artifact_storage", "compute_logs"):
        config.pop(key, None)
    home = workdir / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""

RUN_STATUS = """
query Status($runId: ID!) {
  runOrError(runId: $runId) { ... on Run { status } }
}"""

PARTITION_KEYS = """
{ assetNodeOrError(assetKey: {path: ["outreach", "grant_health"]}) {
    ... on AssetNode { partitionKeys } } }"""

ALL_ASSETS = [
    *({"path": ["outreach", path]} for path in catalog()),
    {"path": ["outreach", "grant_health"]},
]


DG = str(Path(sys.executable).parent / "dg")


class DagsterDev:
    """``dg dev -w workspace.yaml`` with ``env`` on a free loopback port."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "dagster-dev.log"
        self.home = instance_home(workdir)
        command = [
            DG, "dev", "-w", str(ROOT / "workspace.yaml"),
            "-h", "127.0.0.1", "-p", str(self.port),
        ]  # fmt: skip
        full_env = {**os.environ, **env, "DAGSTER_HOME": str(self.home)}
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command,
                cwd=workdir,
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if self.http.get("/server_info").status_code == 200 and self._location_loaded():
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"dg dev not ready in {timeout} s:\n{self.log.read_text()}")

    def _location_loaded(self) -> bool:
        data = self.graphql(
            "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
            "locationOrLoadError { __typename } } } } }"
        )
        entries = data["workspaceOrError"]["locationEntries"]
        loaded = [e for e in entries if e["name"] == LOCATION and e["loadStatus"] == "LOADED"]
        if loaded and loaded[0]["locationOrLoadError"]["__typename"] != "RepositoryLocation":
            raise AssertionError(f"code location failed to load: {loaded[0]}")
        return bool(loaded)

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        answer = self.http.post("/graphql", json={"query": query, "variables": variables})
        answer.raise_for_status()
        body = answer.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def partition_keys(self) -> list[str]:
        """The grant partitions the UI offers (those of ``outreach/grant_health``)."""
        data = self.graphql(PARTITION_KEYS)
        return list(data["assetNodeOrError"].get("partitionKeys") or [])

    def wait_partition(self, grant: str, timeout: float = 90) -> None:
        """Until the partitions sensor (run by the daemon) has added ``grant``'s partition."""
        deadline = time.monotonic() + timeout
        while grant not in self.partition_keys():
            assert time.monotonic() < deadline, f"no partition {grant} after {timeout} s"
            time.sleep(1)

    def materialize_all(self, timeout: float = 180, grant: str = DEFAULT_GRANT) -> str:
        """Launch every asset of ``grant``'s partition as the UI's "Materialize all" does,
        once the partition is there; the run's final status."""
        self.wait_partition(grant)
        params = {
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": "__repository__",
                "pipelineName": "__ASSET_JOB",
                "assetSelection": ALL_ASSETS,
            },
            "mode": "default",
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": grant}]},
        }
        launched = self.graphql(LAUNCH, params=params)["launchPipelineExecution"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        deadline = time.monotonic() + timeout
        status = ""
        while time.monotonic() < deadline:
            status = self.graphql(RUN_STATUS, runId=run_id)["runOrError"]["status"]
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                return status
            time.sleep(1)
        raise AssertionError(f"run {run_id} still {status} after {timeout} s")

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
