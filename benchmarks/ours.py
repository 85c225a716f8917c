"""This project's sync, as users run it: ``outreach-pipeline sync`` in a child process whose
environment points at the emulator, with a token store holding a grant."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from benchmarks.children import ChildOutcome
from benchmarks.emulator import Traffic
from benchmarks.measurements import Measurement
from benchmarks.setting import Setting, measure_child
from outreach_pipeline.auth.grant import Grant, TokenResponse
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.settings import Secret, load_settings

CHANGED_SHARE = 0.01
COMMAND = str(Path(sys.executable).parent / "outreach-pipeline")


def environment(setting: Setting, folder: Path) -> dict[str, str]:
    """``OUTREACH_*`` variables for a sync into ``folder`` against the emulator."""
    emulator = setting.emulator
    return {
        "OUTREACH_API_URL": emulator.api_url,
        "OUTREACH_OAUTH_URL": emulator.oauth_url,
        "OUTREACH_REDIRECT_URI": emulator.redirect_uri,
        "OUTREACH_CLIENT_ID": emulator.client_id,
        "OUTREACH_CLIENT_SECRET": emulator.client_secret,
        "OUTREACH_DUCKDB_PATH": str(folder / "landing.duckdb"),
        "OUTREACH_TOKEN_STORE": str(folder / "grant.json"),
    }


def store_grant(setting: Setting, env: dict[str, str]) -> None:
    """Save the harness's grant as ``auth login`` would have."""
    body = setting.grant
    response = TokenResponse(
        access_token=Secret(body["access_token"]),
        refresh_token=Secret(body["refresh_token"]),
        expires_in=float(body["expires_in"]),
        scopes=tuple(body["scope"].split()),
    )
    grant = Grant.from_token_response(response, "production", time.time())
    open_token_store(load_settings(env=env, dotenv=None)).save(grant)


def synced_rows(outcome: ChildOutcome, _traffic: Traffic) -> int:
    """The ``total`` line of the sync's summary table: rows written."""
    for line in outcome.stdout.read_text().splitlines():
        cells = line.split()
        if cells and cells[0] == "total":
            return int(cells[1])
    raise ValueError(f"no total line in {outcome.stdout}")


def measure(setting: Setting, repeat: int) -> list[Measurement]:
    """A full sync into a fresh database, then an incremental one after 1% of records changed."""
    folder = setting.folder(f"ours-{repeat}")
    env = environment(setting, folder)
    store_grant(setting, env)
    full = measure_child(
        setting,
        "ours",
        repeat,
        [COMMAND, "sync", "--full-refresh"],
        env=env,
        workdir=folder,
        records=synced_rows,
    )
    setting.emulator.change(CHANGED_SHARE, seed=repeat)
    incremental = measure_child(
        setting,
        "ours-incremental",
        repeat,
        [COMMAND, "sync"],
        env=env,
        workdir=folder,
        records=synced_rows,
    )
    return [full, incremental]
