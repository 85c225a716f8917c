"""dlt's ``rest_api`` source, in its own venv, over the same streams and page sizes as ours,
loading into DuckDB. Only the URLs and credentials point it at the emulator."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.children import ChildOutcome
from benchmarks.emulator import Traffic
from benchmarks.measurements import Measurement
from benchmarks.peers.venvs import peer_venv
from benchmarks.setting import Setting, measure_child
from outreach_pipeline.catalog import default_streams

PACKAGES = ["dlt[duckdb]==1.31.0"]
PIPELINE = Path(__file__).with_name("dlt_pipeline.py")


def install() -> Path:
    return peer_venv("dlt-1.31.0", "3.11", PACKAGES)


def loaded_rows(outcome: ChildOutcome, _traffic: Traffic) -> int:
    """The total of the per-table row counts the pipeline printed last."""
    counts = json.loads(outcome.stdout.read_text().strip().splitlines()[-1])
    return sum(int(n) for n in counts.values())


def measure(setting: Setting, repeat: int, venv: Path) -> Measurement:
    folder = setting.folder(f"dlt-{repeat}")
    emulator = setting.emulator
    config = {
        "api_url": emulator.api_url,
        "token_url": emulator.oauth_url + "/token",
        "database": str(folder / "dlt.duckdb"),
        "pipelines_dir": str(folder / "pipelines"),
        "streams": [
            {"path": s.path, "table": s.table, "page_size": s.page_size} for s in default_streams()
        ],
    }
    (folder / "config.json").write_text(json.dumps(config))
    env = {
        "BENCH_CLIENT_ID": emulator.client_id,
        "BENCH_CLIENT_SECRET": emulator.client_secret,
        "BENCH_REFRESH_TOKEN": setting.grant["refresh_token"],
        "RUNTIME__DLTHUB_TELEMETRY": "false",
    }
    return measure_child(
        setting,
        "dlt",
        repeat,
        # -P: the script's folder (holding this dlt.py) must not shadow the dlt package
        [str(venv / "bin" / "python"), "-P", str(PIPELINE), str(folder / "config.json")],
        env=env,
        workdir=folder,
        records=loaded_rows,
    )
