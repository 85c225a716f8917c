"""The emulator and the sync as separate processes, for kill -9 and concurrent-reader tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from outreach_pipeline.catalog import catalog, scopes_for

ROOT = Path(__file__).resolve().parents[2]


class EmulatorProcess:
    """``outreach-pipeline emulator`` in its own process, driven through ``/_emulator/``."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "outreach_pipeline.cli", "emulator", "--auto-consent", *args],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.base_url = line.split("listening on ", 1)[1].split()[0]
        self.api_url = self.base_url + "/api/v2"
        self.admin = httpx.Client(base_url=self.base_url + "/_emulator", timeout=60)

    def token(self) -> str:
        scopes = scopes_for(list(catalog().values()))
        return self.admin.post("/grants", json={"scopes": scopes}).json()["access_token"]

    def records(self, path: str) -> list[dict[str, Any]]:
        return self.admin.get(f"/records/{path}").json()["data"]

    def stop(self) -> None:
        self.admin.close()
        self.process.terminate()
        self.process.wait(timeout=10)


def sync_process(
    emulator: EmulatorProcess, db_path: Path, token: str, *args: str
) -> subprocess.Popen[str]:
    """The sync command in a child process (``tests/sync/sync_child.py``) against ``emulator``."""
    env = {
        **os.environ,
        "OUTREACH_API_URL": emulator.api_url,
        "OUTREACH_DUCKDB_PATH": str(db_path),
        "TEST_ACCESS_TOKEN": token,
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "sync" / "sync_child.py"), *args],
        env=env,
        cwd=db_path.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
