"""Quick measurement of the sync against an emulator in another process (not a test).

    uv run python tests/sync/measure.py --scale 20000

Prints, as JSON lines: the floor (plain httpx fetching every page with keep-alive, then
DuckDB ``read_json`` of the same bytes), a full sync (seconds, records/s, requests, peak RSS
of the syncing process: ``VmHWM``, else ``resource.getrusage``), and an incremental sync
after changing 1% of the records of every stream.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from outreach_pipeline.catalog import default_streams
from tests.sync.processes import ROOT, EmulatorProcess

SYNC = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from outreach_pipeline.sync.memory import tune_process_memory
tune_process_memory()  # as the sync command does
from pathlib import Path
from outreach_pipeline.settings import Settings
from outreach_pipeline.sync import run_sync
from outreach_emulator import BearerAuth
def peak_rss_mb():
    # VmHWM starts afresh at exec, unlike getrusage's ru_maxrss, which a forked child
    # inherits from its parent (here: the measuring process, after its DuckDB floor load).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
started = time.perf_counter()
results = run_sync(Settings(api_url=sys.argv[2], duckdb_path=Path(sys.argv[3])),
                   auth=BearerAuth(sys.argv[4]))
print(json.dumps({
    "seconds": round(time.perf_counter() - started, 2),
    "records": sum(r.records for r in results),
    "requests": sum(r.requests for r in results),
    "errors": [r.error for r in results if r.error],
    "peak_rss_mb": peak_rss_mb(),
}))
"""


def floor(emulator: EmulatorProcess, token: str, workdir: Path) -> dict:
    """Every page of the streams synced by default, fetched with one keep-alive httpx client,
    then bulk-loaded by DuckDB.

    Called twice: the first pass makes the emulator generate and cache every record, so
    neither the floor nor the sync measured after it pays for generation."""
    for stale in workdir.glob("*.json"):
        stale.unlink()
    (workdir / "floor.duckdb").unlink(missing_ok=True)
    started = time.perf_counter()
    requests = 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
        for stream in default_streams():
            url: str | None = (
                f"{emulator.api_url}/{stream.path}?page[size]={stream.page_size}&count=false"
            )
            number = 0
            while url:
                body = http.get(url).content
                requests += 1
                (workdir / f"{stream.table}-{number:05d}.json").write_bytes(body)
                number += 1
                url = (json.loads(body).get("links") or {}).get("next")
    fetched = time.perf_counter() - started
    started = time.perf_counter()
    with duckdb.connect(str(workdir / "floor.duckdb")) as con:
        for stream in default_streams():
            con.execute(
                f"CREATE TABLE {stream.table} AS SELECT unnest(data, recursive := true) "
                f"FROM read_json('{workdir}/{stream.table}-*.json', maximum_object_size=1e9)"
            )
    loaded = time.perf_counter() - started
    return {
        "fetch_seconds": round(fetched, 2),
        "load_seconds": round(loaded, 2),
        "seconds": round(fetched + loaded, 2),
        "requests": requests,
    }


def sync(emulator: EmulatorProcess, token: str, db_path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", SYNC, str(ROOT), emulator.api_url, str(db_path), token],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def change_one_percent(emulator: EmulatorProcess) -> int:
    rng = random.Random(1)
    emulator.admin.post("/clock", json={"advance": 60})
    changed = 0
    for stream in default_streams():
        ids = emulator.admin.get(f"/records/{stream.path}", params={"ids_only": "true"}).json()[
            "ids"
        ]
        for record_id in rng.sample(ids, max(1, len(ids) // 100)):
            emulator.admin.patch(f"/records/{stream.path}/{record_id}", json={"attributes": {}})
            changed += 1
    return changed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=20000)
    args = parser.parse_args()
    emulator = EmulatorProcess("--scale", str(args.scale), "--rate-limit", "1000000")
    try:
        token = emulator.token()
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            floor(emulator, token, workdir)
            print(json.dumps({"floor": floor(emulator, token, workdir)}), flush=True)
            full = sync(emulator, token, workdir / "landing.duckdb")
            full["records_per_s"] = round(full["records"] / full["seconds"])
            print(json.dumps({"full_sync": full}), flush=True)
            changed = change_one_percent(emulator)
            incremental = sync(emulator, token, workdir / "landing.duckdb")
            incremental["changed"] = changed
            incremental["requests_vs_full"] = round(incremental["requests"] / full["requests"], 4)
            print(json.dumps({"incremental_1pct": incremental}), flush=True)
    finally:
        emulator.stop()
    print(
        json.dumps(
            {
                "measuring_process_rss_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
