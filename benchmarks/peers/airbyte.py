"""Airbyte's ``source-outreach`` connector, pointed at the emulator by changing only URLs.

Its base URL and token URL are fixed in ``source_outreach/manifest.yaml``. We copy the installed
package into a work folder, rewrite those two URLs, and put the copy first on ``PYTHONPATH``, so
the cached environment itself is never modified. Everything else (paging, page size 1000,
``sort=updatedAt``, its OAuth refresh) runs as the connector ships it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.peers.venvs import peer_venv

PACKAGE = "airbyte-source-outreach==1.0.30"
REAL_API_URL = "https://api.outreach.io/api/v2/"
REAL_TOKEN_URL = "https://api.outreach.io/oauth/token"


@dataclass
class AirbyteRead:
    """What one ``read`` emitted: record ids per stream, log lines and the exit status."""

    records: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    returncode: int = 0


def install() -> Path:
    """The connector's virtual environment (Python 3.10: its CDK fails to import on 3.11)."""
    return peer_venv("airbyte-source-outreach-1.0.30", "3.10", [PACKAGE])


def pointed_package(venv: Path, workdir: Path, api_url: str, oauth_url: str) -> Path:
    """A copy of ``source_outreach`` whose manifest targets ``api_url``/``oauth_url``."""
    installed = next(venv.glob("lib/python*/site-packages/source_outreach"))
    target = workdir / "pythonpath" / "source_outreach"
    shutil.copytree(installed, target, dirs_exist_ok=True)
    manifest = target / "manifest.yaml"
    text = manifest.read_text()
    replacements = {
        REAL_API_URL: api_url.rstrip("/") + "/",
        REAL_TOKEN_URL: oauth_url.rstrip("/") + "/token",
    }
    for real, emulated in replacements.items():
        if real not in text:
            raise RuntimeError(f"{real} not found in the connector's manifest: it has changed")
        text = text.replace(real, emulated)
    manifest.write_text(text)
    return target.parent


def configured_catalog(streams: list[str]) -> dict:
    """A full-refresh catalog for the connector's (snake_case) stream names."""
    return {
        "streams": [
            {
                "stream": {
                    "name": name,
                    "json_schema": {},
                    "supported_sync_modes": ["full_refresh", "incremental"],
                },
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
            }
            for name in streams
        ]
    }


def read(
    venv: Path,
    workdir: Path,
    *,
    api_url: str,
    oauth_url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    redirect_uri: str,
    streams: list[str],
    timeout: float = 600,
) -> AirbyteRead:
    """Run ``source-outreach read`` and collect record ids per stream from its messages."""
    pythonpath = pointed_package(venv, workdir, api_url, oauth_url)
    config = workdir / "config.json"
    config.write_text(
        json.dumps(
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "refresh_token": refresh_token,
                "redirect_uri": redirect_uri,
                "start_date": "2000-01-01T00:00:00Z",
            }
        )
    )
    catalog = workdir / "catalog.json"
    catalog.write_text(json.dumps(configured_catalog(streams)))
    command = [
        str(venv / "bin" / "python"),
        "-c",
        "from source_outreach.run import run; run()",
        "read",
        "--config",
        str(config),
        "--catalog",
        str(catalog),
    ]
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    result = AirbyteRead()
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            collect(result, line)
        result.returncode = process.wait(timeout=timeout)
        if process.stderr is not None:
            result.errors.extend(process.stderr.read().splitlines()[-20:])
    return result


def collect(result: AirbyteRead, line: str) -> None:
    """Fold one Airbyte protocol message into ``result``."""
    try:
        message = json.loads(line)
    except ValueError:
        return
    if message.get("type") == "RECORD":
        record = message["record"]
        result.records[record["stream"]].append(int(record["data"]["id"]))
    elif message.get("type") == "TRACE" and message.get("trace", {}).get("type") == "ERROR":
        result.errors.append(message["trace"]["error"].get("message", ""))
    elif message.get("type") == "LOG" and message["log"].get("level") in ("ERROR", "FATAL"):
        result.errors.append(message["log"].get("message", ""))
