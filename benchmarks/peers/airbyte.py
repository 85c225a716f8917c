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
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.children import ChildOutcome, run_child
from benchmarks.emulator import Traffic
from benchmarks.measurements import Measurement
from benchmarks.peers.venvs import peer_venv
from benchmarks.setting import Setting, measure_child
from outreach_pipeline.catalog import catalog

PACKAGE = "airbyte-source-outreach==1.0.30"
REAL_API_URL = "https://api.outreach.io/api/v2/"
REAL_TOKEN_URL = "https://api.outreach.io/oauth/token"


@dataclass
class AirbyteRead:
    """What one ``read`` emitted: record ids per stream, log lines, exit status, wall seconds and
    the peak RSS of the connector's process."""

    records: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    returncode: int = 0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0


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


def command(
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
) -> tuple[list[str], dict[str, str]]:
    """The ``source-outreach read`` command line and environment, its files in ``workdir``."""
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
    catalog_file = workdir / "catalog.json"
    catalog_file.write_text(json.dumps(configured_catalog(streams)))
    line = [
        str(venv / "bin" / "python"),
        "-c",
        "from source_outreach.run import run; run()",
        "read",
        "--config",
        str(config),
        "--catalog",
        str(catalog_file),
    ]
    return line, {**os.environ, "PYTHONPATH": str(pythonpath)}


def read(venv: Path, workdir: Path, *, timeout: float = 600, **options: Any) -> AirbyteRead:
    """Run ``source-outreach read`` (its messages into a file) and collect record ids per stream
    from them; ``options`` are :func:`command`'s."""
    line, env = command(venv, workdir, **options)
    outcome = run_child(line, workdir=workdir, name="airbyte-read", env=env, timeout=timeout)
    result = AirbyteRead(
        returncode=outcome.returncode, seconds=outcome.seconds, peak_rss_mb=outcome.peak_rss_mb
    )
    collect_file(result, outcome)
    return result


def collect_file(result: AirbyteRead, outcome: ChildOutcome) -> None:
    """Fold the messages a read wrote and its stderr's last lines into ``result``."""
    with outcome.stdout.open() as messages:
        for message in messages:
            collect(result, message)
    result.errors.extend(outcome.stderr.read_text(errors="replace").splitlines()[-20:])


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


# The streams the connector's manifest declares, as catalog paths.
STREAMS = [
    "accounts",
    "calls",
    "callDispositions",
    "callPurposes",
    "mailings",
    "mailboxes",
    "opportunities",
    "personas",
    "prospects",
    "sequences",
    "sequenceStates",
    "sequenceSteps",
    "snippets",
    "stages",
    "tasks",
    "templates",
    "users",
]


def emitted_records(outcome: ChildOutcome, _traffic: Traffic) -> int:
    result = AirbyteRead()
    collect_file(result, outcome)
    return sum(len(ids) for ids in result.records.values())


def measure(setting: Setting, repeat: int, venv: Path, contender: str = "airbyte") -> Measurement:
    """One ``read`` of the connector's streams into a file, against the harness's emulator.
    It is run as it ships: its spec has no page size, concurrency or other speed option (and
    its manifest already asks 1,000 records a page, the API's maximum)."""
    folder = setting.folder(f"{contender}-{repeat}")
    emulator = setting.emulator
    line, env = command(
        venv,
        folder,
        api_url=emulator.api_url,
        oauth_url=emulator.oauth_url,
        client_id=emulator.client_id,
        client_secret=emulator.client_secret,
        refresh_token=setting.grant["refresh_token"],
        redirect_uri=emulator.redirect_uri,
        streams=[catalog()[path].table for path in STREAMS],
    )
    return measure_child(
        setting, contender, repeat, line, env=env, workdir=folder, records=emitted_records
    )
