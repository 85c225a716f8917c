"""Where a full sync's memory goes: ``uv run python -m benchmarks.memory_profile``.

Runs ours' full sync against one emulator, each time in a child process
(:mod:`benchmarks.memory_sampled`), once per variant of ``SyncOptions`` and repeat, and prints
for each run its wall time, its peak RSS (the child's own ``wait4`` figure, as the harness
takes it) and what the sampled peak was made of: anonymous memory, mapped files (mostly
libraries), Arrow's bytes, threads and the streams running. The peak varies by tens of MB
between runs of the same code, so compare variants over ``--repeat`` runs, interleaved::

    uv run python -m benchmarks.memory_profile --scale 80000 --repeat 2 \\
        --variant "" --variant "batch_bytes=4194304"
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from benchmarks import floor, ours
from benchmarks.children import run_child
from benchmarks.emulator import EmulatorProcess
from benchmarks.setting import Setting


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--variant",
        action="append",
        help='SyncOptions changes as "name=value name=value" (default: one run as is)',
    )
    parser.add_argument("--every", type=float, default=0.05, help="seconds between samples")
    parser.add_argument("--out", type=Path, help="also write every run's figures here (JSON)")
    args = parser.parse_args(argv)
    variants = [v.split() for v in (args.variant or [""])]
    runs = []
    with (
        EmulatorProcess(scale=args.scale, seed=1, rate_limit=10**6) as emulator,
        tempfile.TemporaryDirectory(prefix="outreach-memory-") as tmp,
    ):
        grant = emulator.grant(1)
        setting = Setting(emulator, grant, args.scale, 0, Path(tmp))
        floor.fetch_all(emulator.api_url, grant["access_token"], None)  # warm, untimed
        for repeat in range(args.repeat):
            for number, variant in enumerate(variants):
                folder = setting.folder(f"r{repeat}-v{number}")
                env = ours.environment(setting, folder)
                ours.store_grant(setting, env)
                command = [sys.executable, "-m", "benchmarks.memory_sampled"]
                outcome = run_child(
                    [*command, f"--every={args.every}", *variant],
                    workdir=folder,
                    name="sync",
                    env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
                )
                if outcome.returncode != 0:
                    raise SystemExit(f"variant {variant} failed:\n{outcome.tail()}")
                sampled = json.loads(outcome.stdout.read_text())
                run = {
                    "variant": " ".join(variant),
                    "wall_seconds": round(outcome.seconds, 2),
                    "peak_rss_mb": round(outcome.peak_rss_mb),
                    **sampled,
                }
                runs.append(run)
                peak = sampled["peak"]
                print(
                    f"{run['variant'] or '(defaults)':30} {run['wall_seconds']:7.2f} s "
                    f"peak {run['peak_rss_mb']} MB; sampled peak at {peak['second']} s: "
                    f"anon {peak['anon_mb']}, files {peak['file_mb']}, Arrow "
                    f"{peak['arrow_mb']} MB, {peak['threads']} threads, "
                    f"{len(peak['streams'])} streams ({', '.join(peak['streams'][:4])}"
                    f"{', …' if len(peak['streams']) > 4 else ''}); {sampled['records']:,} "
                    f"records, {sampled['requests']} requests",
                    flush=True,
                )
    if args.out is not None:
        args.out.write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
