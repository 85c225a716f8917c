"""The benchmark harness: the reference and floor fetch loops (with and without a DuckDB load),
our sync and the peers against one emulator.

    uv run --group bench python -m benchmarks.run [--scale 20000] [--latency-ms 0,100]
        [--repeat 3] [--scales 2000,20000,80000] [--only reference,floor,floor+load,ours,dlt]
    uv run --group bench python -m benchmarks.run --profile latency [--hour-seconds 3600]

For each (scale, latency) it starts ``outreach-pipeline emulator`` as its own process, warms it
by one untimed read of every page, then runs every contender as a child process, one after
another, ``--repeat`` times, and writes ``benchmarks/results/benchmark.{md,png,json}``.
``--profile latency`` runs instead under the real API's conditions (benchmarks/conditions.py)
at scales 2,000, 20,000 and 80,000, records each run's critical-path bound, and writes to
``benchmarks/results/latency-profile/``. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import conditions, floor, ours, report
from benchmarks.emulator import EmulatorProcess, changed_count
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
LATENCY_RESULTS = RESULTS / "latency-profile"
LATENCY_SCALES = [2000, 20000, 80000]


def integers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--profile",
        choices=("cpu", "latency"),
        default="cpu",
        help="cpu: --latency-ms added; latency: the real API's conditions (conditions.py)",
    )
    parser.add_argument(
        "--scale", type=int, help="prospects (20000: 252,056 rec; the cpu profile's default)"
    )
    parser.add_argument(
        "--scales",
        type=integers,
        help="several scales, e.g. 2000,20000,80000 (the latency profile's default)",
    )
    parser.add_argument(
        "--hour-seconds",
        type=int,
        default=conditions.HOUR,
        help="latency profile: the rate limit's window, its 10,000 requests scaled alike",
    )
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
    parser.add_argument(
        "--out", type=Path, help=f"folder for the results (default {RESULTS.relative_to(ROOT)})"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child run")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contenders {sorted(unknown)}; known: {', '.join(CONTENDERS)}")
    latency = args.profile == "latency"
    if args.scales is None:
        args.scales = [args.scale] if args.scale else LATENCY_SCALES if latency else [20000]
    if latency:
        args.latency_ms = [0]
    if args.out is None:
        args.out = LATENCY_RESULTS if latency else RESULTS
    return args


def rate_limit(args: argparse.Namespace) -> conditions.RateLimit:
    """The emulator's limit: the (shortened) hour's under the latency profile, else
    ``--rate-limit`` per hour."""
    if args.profile == "latency":
        return conditions.RateLimit.hour_of(args.hour_seconds)
    return conditions.RateLimit(args.rate_limit, conditions.HOUR)


def bounds(
    args: argparse.Namespace, emulator: EmulatorProcess
) -> dict[str, conditions.Bound] | None:
    """The full and the incremental sync's critical-path bounds under the latency profile."""
    if args.profile != "latency":
        return None
    counts = emulator.record_counts()
    changed = {path: changed_count(n, ours.CHANGED_SHARE) for path, n in counts.items()}
    limit = rate_limit(args)
    return {
        "full": conditions.bound(counts, limit),
        "incremental": conditions.bound(changed, limit),
    }


def with_bound(
    m: Measurement, profile: str, found: dict[str, conditions.Bound] | None
) -> Measurement:
    if found is None:
        return replace(m, profile=profile)
    kind = "incremental" if m.contender == "ours-incremental" else "full"
    return replace(m, profile=profile, bound_s=round(found[kind].seconds, 2))


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
    args: argparse.Namespace,
    scale: int,
    latency_ms: int,
    chosen: dict[str, Runner],
    meta: dict[str, Any],
) -> list[Measurement]:
    """Every chosen contender, ``--repeat`` times, each run as a user of its own (a fresh
    request budget) while the emulated org has users left, then its users again in turn (the
    emulator grants only to its org's users: at least 5, one per 100 prospects)."""
    measurements: list[Measurement] = []
    limit = rate_limit(args)
    with (
        EmulatorProcess(
            scale=scale, seed=args.seed, rate_limit=limit.limit, rate_limit_window=limit.window
        ) as emulator,
        tempfile.TemporaryDirectory(prefix="outreach-bench-") as tmp,
    ):
        users = itertools.cycle(range(1, emulator.record_counts()["users"] + 1))
        setting = Setting(
            emulator=emulator,
            grant=emulator.grant(next(users)),
            scale=scale,
            latency_ms=latency_ms,
            workdir=Path(tmp),
            timeout=args.timeout,
        )
        print(f"scale {scale} ({emulator.record_count():,} records), {latency_ms} ms", flush=True)
        floor.fetch_all(emulator.api_url, setting.grant["access_token"], None)
        found = bounds(args, emulator)
        if found is None:
            emulator.set_latency(latency_ms / 1000)
        else:
            meta.setdefault("bounds", {})[str(scale)] = {k: b.to_dict() for k, b in found.items()}
            emulator.set_faults(conditions.FAULTS)
        for repeat in range(1, args.repeat + 1):
            for name, runner in chosen.items():
                if name in PEERS and repeat > (args.peer_repeat or args.repeat):
                    continue
                own = replace(setting, grant=emulator.grant(next(users)))
                for m in runner(own, repeat):
                    measurements.append(with_bound(m, args.profile, found))
                    print(f"  {progress(measurements[-1])}", flush=True)
    return measurements


def progress(m: Measurement) -> str:
    status = "ok" if m.error is None else f"FAILED {m.error}"
    bound = "" if m.bound_s is None else f" (bound {m.bound_s:.1f} s, {m.seconds / m.bound_s:.2f}x)"
    return (
        f"#{m.repeat} {m.contender:<17} {m.seconds:8.2f} s{bound} {m.records:>9,} rec "
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
        "profile": args.profile,
        "rate_limit": vars(rate_limit(args)),
        **({"faults": conditions.FAULTS} if args.profile == "latency" else {}),
        **machine("start"),
    }
    chosen = runners(args.only, notes)
    measurements: list[Measurement] = []
    for scale in args.scales:
        for latency_ms in args.latency_ms:
            measurements += run_setting(args, scale, latency_ms, chosen, meta)
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
