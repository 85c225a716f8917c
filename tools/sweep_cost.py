"""What a sweep costs against the emulator: the id-only sweep (deletes alone) against the
fingerprint sweep (deletes and changes that leave ``updatedAt`` alone), over every stream.

Each sweep's cost is that of an incremental run with ``--sweep-deletes`` minus that of the
same run without it (requests from the sync's results, bytes and time measured around it).
The fingerprint sweep is measured twice: with nothing to fetch again, and after silent
relationship changes to ``--changed`` prospects.

    uv run python -m tools.sweep_cost --scale 2000 --changed 20
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx

from outreach_emulator import Emulator, EmulatorConfig, bearer_auth
from outreach_pipeline.client import RateBudget
from outreach_pipeline.settings import Settings
from outreach_pipeline.sync import SyncOptions, run_sync


def _run(
    emu: Emulator, settings: Settings, auth: httpx.Auth, options: SyncOptions, sweep: bool
) -> dict[str, float]:
    """An incremental sync of every stream: requests, re-fetched records, bytes, seconds."""
    served = emu.stats["bytes_served"]
    started = time.perf_counter()
    results = run_sync(
        settings, sweep_deletes=sweep, auth=auth, options=options, budget=RateBudget()
    )
    assert all(r.ok for r in results), [r.error for r in results if r.error]
    return {
        "requests": sum(r.requests for r in results),
        "refetched": sum(r.records_refetched for r in results),
        "bytes": emu.stats["bytes_served"] - served,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=20)
    args = parser.parse_args()
    emu = Emulator(EmulatorConfig(seed=1, scale=args.scale, rate_limit=1_000_000))
    with emu.serve(), tempfile.TemporaryDirectory() as tmp:
        settings = Settings(api_url=emu.api_url, duckdb_path=Path(tmp) / "sweep.duckdb")
        auth = bearer_auth(emu)
        ids_only = SyncOptions(sweep_interval=None, fingerprint_sweep=False)
        fingerprints = SyncOptions(sweep_interval=None)
        full = _run(emu, settings, auth, fingerprints, sweep=False)
        plain = _run(emu, settings, auth, fingerprints, sweep=False)
        rows = {
            "id-only sweep": _run(emu, settings, auth, ids_only, sweep=True),
            "fingerprint sweep": _run(emu, settings, auth, fingerprints, sweep=True),
        }
        for record_id in range(1, args.changed + 1):
            emu.data.update("prospects", record_id, {}, {"owner": None}, silent=True)
        changed = f"fingerprint sweep, {args.changed} changed"
        rows[changed] = _run(emu, settings, auth, fingerprints, sweep=True)
    print(
        f"scale {args.scale}: the first (full) sync took {full['requests']:.0f} requests, "
        f"{full['bytes'] / 1e6:.2f} MB; a sweep's cost is a sync with it minus one without"
    )
    print(f"{'':34} {'requests':>8} {'refetched':>9} {'MB':>7} {'seconds':>7}")
    for name, row in rows.items():
        print(
            f"{name:34} {row['requests'] - plain['requests']:8.0f} {row['refetched']:9.0f} "
            f"{(row['bytes'] - plain['bytes']) / 1e6:7.2f} "
            f"{row['seconds'] - plain['seconds']:7.2f}"
        )


if __name__ == "__main__":
    main()
