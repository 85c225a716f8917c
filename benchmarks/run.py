"""The benchmark harness: the reference and floor fetch loops (with and without a DuckDB load),
our sync and the peers against one emulator.

    uv run --group bench python -m benchmarks.run [--scale 20000] [--latency-ms 0,100]
        [--repeat 3] [--scales 2000,20000,80000] [--only reference,floor,floor+load,ours,dlt]

For each (scale, latency) it starts ``outreach-pipeline emulator`` as its own process, warms it
by one untimed read of every page, then runs every contender as a child process, one after
another, ``--repeat`` times, and writes ``benchmarks/results/benchmark.{md,png,json}``.
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import floor, ours, report
from benchmarks.emulator import EmulatorProcess
from benchmarks.measurements import Measurement, results_document
from benchmarks.peers import airbyte, dlt
from benchmarks.peers.venvs import PeerUnavailable
from benchmarks.setting import ROOT, Setting

Runner = Callable[[Setting, int], list[Measurement]]
# Each peer contender and the module that installs and runs it (dlt twice: tuned, defaults).
PEERS: dict[str, ModuleType] = {"airbyte": airbyte, **dict.fromkeys(dlt.CONTENDERS, dlt)}
FETCH_LOOPS = ("reference", "reference+load", "floor", "floor+load")
CONTENDERS = (*FETCH_LOOPS, "ours", *PEERS)
RESULTS = ROOT / "benchmarks" / "results"


def integers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scale", type=int, default=20000, help="prospects (20000: 252,056 rec)")
    parser.add_argument("--scales", type=integers, help="several scales, e.g. 2000,20000,80000")
    parser.add_argument("--latency-ms", type=integers, default=[0], help="e.g. 0,100")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--peer-repeat", type=int, help="runs of each peer (default: --repeat); they are slow"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rate-limit", type=int, default=1_000_000, help="emulator requests/hour/user"
    )
    parser.add_argument(
        "--only",
        type=lambda text: [c.strip() for c in text.split(",") if c.strip()],
        default=list(CONTENDERS),
        help=f"contenders, comma-separated (default {','.join(CONTENDERS)})",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child run")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contenders {sorted(unknown)}; known: {', '.join(CONTENDERS)}")
    return args


def peer_runner(peer: ModuleType, venv: Path, contender: str) -> Runner:
    return lambda setting, repeat: [peer.measure(setting, repeat, venv, contender)]


def fetch_loop_runner(contender: str) -> Runner:
    return lambda setting, repeat: [floor.measure(setting, repeat, contender)]


def runners(chosen: list[str], notes: list[str]) -> dict[str, Runner]:
    """The chosen contenders; a peer that cannot be installed here is left out with a note."""
    table: dict[str, Runner] = {name: fetch_loop_runner(name) for name in FETCH_LOOPS}
    table["ours"] = ours.measure
    for name, peer in PEERS.items():
        if name not in chosen:
            continue
        try:
            venv = peer.install()
        except PeerUnavailable as why:
            notes.append(f"{name} left out: {why}")
            continue
        table[name] = peer_runner(peer, venv, name)
    return {name: table[name] for name in chosen if name in table}


def run_setting(
    args: argparse.Namespace, scale: int, latency_ms: int, chosen: dict[str, Runner]
) -> list[Measurement]:
    measurements: list[Measurement] = []
    with (
        EmulatorProcess(scale=scale, seed=args.seed, rate_limit=args.rate_limit) as emulator,
        tempfile.TemporaryDirectory(prefix="outreach-bench-") as tmp,
    ):
        setting = Setting(
            emulator=emulator,
            grant=emulator.grant(),
            scale=scale,
            latency_ms=latency_ms,
            workdir=Path(tmp),
            timeout=args.timeout,
        )
        print(f"scale {scale} ({emulator.record_count():,} records), {latency_ms} ms", flush=True)
        floor.fetch_all(emulator.api_url, setting.grant["access_token"], None)
        emulator.set_latency(latency_ms / 1000)
        for repeat in range(1, args.repeat + 1):
            for name, runner in chosen.items():
                if name in PEERS and repeat > (args.peer_repeat or args.repeat):
                    continue
                for m in runner(setting, repeat):
                    measurements.append(m)
                    print(f"  {progress(m)}", flush=True)
    return measurements


def progress(m: Measurement) -> str:
    status = "ok" if m.error is None else f"FAILED {m.error}"
    return (
        f"#{m.repeat} {m.contender:<17} {m.seconds:8.2f} s {m.records:>9,} rec "
        f"{m.records_per_s:>9,.0f} rec/s {m.requests:>6} req {m.peak_rss_mb:7.1f} MB {status}"
    )


def machine(when: str) -> dict[str, Any]:
    return {f"load_average_{when}": [round(v, 2) for v in os.getloadavg()]}


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo ("unknown CPU" elsewhere)."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else "unknown CPU"


def commit() -> str:
    """The commit measured, with ``+uncommitted changes`` when the worktree differs from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return head + (" +uncommitted changes" if git("status", "--porcelain") else "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    notes: list[str] = []
    meta: dict[str, Any] = {
        "command": "python -m benchmarks.run " + " ".join(argv or sys.argv[1:]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "commit": commit(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} x {cpu_model()}",
        "cpus": os.cpu_count(),
        "repeat": args.repeat,
        "peer_repeat": args.peer_repeat or args.repeat,
        "python": platform.python_version(),
        "seed": args.seed,
        "rate_limit": args.rate_limit,
        **machine("start"),
    }
    chosen = runners(args.only, notes)
    measurements: list[Measurement] = []
    for scale in args.scales or [args.scale]:
        for latency_ms in args.latency_ms:
            measurements += run_setting(args, scale, latency_ms, chosen)
    meta.update(machine("end"), notes=notes)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmark.json").write_text(
        json.dumps(results_document(measurements, meta), indent=1)
    )
    written = report.write(measurements, meta, args.out)
    print("wrote " + ", ".join(str(path) for path in written))
    return 0 if all(m.error is None for m in measurements) else 1


if __name__ == "__main__":
    raise SystemExit(main())
