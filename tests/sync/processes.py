"""The emulator and ``outreach-pipeline sync`` as separate processes, for kill -9 and
concurrent-reader tests. The sync runs with its real auth: a grant obtained through the
emulator's OAuth flow and kept in a token store, as after ``outreach-pipeline auth login``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from outreach_emulator.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from outreach_pipeline.auth.login import login
from outreach_pipeline.catalog import catalog, scopes_for
from outreach_pipeline.commands.demo import free_loopback_port, play_browser
from outreach_pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


class EmulatorProcess:
    """``outreach-pipeline emulator`` in its own process, driven through ``/_emulator/``."""

    def __init__(self, *args: str) -> None:
        self.redirect_uri = f"http://127.0.0.1:{free_loopback_port()}/callback"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "outreach_pipeline.cli",
                "emulator",
                "--auto-consent",
                "--redirect-uri",
                self.redirect_uri,
                *args,
            ],
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
        """An access token straight from the emulator (for scripts that skip OAuth)."""
        scopes = scopes_for(list(catalog().values()))
        return self.admin.post("/grants", json={"scopes": scopes}).json()["access_token"]

    def records(self, path: str) -> list[dict[str, Any]]:
        return self.admin.get(f"/records/{path}").json()["data"]

    def stop(self) -> None:
        self.admin.close()
        self.process.terminate()
        self.process.wait(timeout=10)


def authorized_environment(emulator: EmulatorProcess, workdir: Path) -> dict[str, str]:
    """Log in through the emulator's OAuth flow, storing the grant in ``workdir``; the
    environment under which ``outreach-pipeline sync`` uses that grant."""
    env = {
        "OUTREACH_API_URL": emulator.api_url,
        "OUTREACH_OAUTH_URL": emulator.base_url + "/oauth",
        "OUTREACH_REDIRECT_URI": emulator.redirect_uri,
        "OUTREACH_CLIENT_ID": DEFAULT_CLIENT_ID,
        "OUTREACH_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "OUTREACH_TOKEN_STORE": str(workdir / "grant.json"),
        "OUTREACH_DUCKDB_PATH": str(workdir / "landing.duckdb"),
    }
    settings = Settings(
        api_url=env["OUTREACH_API_URL"],
        oauth_url=env["OUTREACH_OAUTH_URL"],
        redirect_uri=emulator.redirect_uri,
        token_store_path=Path(env["OUTREACH_TOKEN_STORE"]),
        client_id=DEFAULT_CLIENT_ID,
        client_secret=SecretStr(DEFAULT_CLIENT_SECRET),
    )
    scopes = scopes_for(list(catalog().values()))
    login(settings, "production", scopes, lambda _: None, play_browser, io.StringIO(), 60)
    return env


def sync_process(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``outreach-pipeline sync`` in a child process with ``env`` (see above)."""
    workdir = Path(env["OUTREACH_DUCKDB_PATH"]).parent
    return subprocess.Popen(
        [sys.executable, "-m", "outreach_pipeline.cli", "sync", *args],
        env={**os.environ, **env},
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
