"""What every contender runs against: one emulator process at one scale and latency."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.children import ChildOutcome, run_child
from benchmarks.emulator import EmulatorProcess, Traffic
from benchmarks.measurements import Measurement

ACCESS_TOKEN_VARIABLE = "BENCH_ACCESS_TOKEN"
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setting:
    emulator: EmulatorProcess
    grant: dict[str, Any]  # the token response of a grant with every stream's scope
    scale: int
    latency_ms: int
    workdir: Path
    timeout: float = 3600

    def folder(self, name: str) -> Path:
        """A fresh working folder for one run."""
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=False)
        return path


def measure_child(
    setting: Setting,
    contender: str,
    repeat: int,
    command: Sequence[str],
    *,
    records: Callable[[ChildOutcome, Traffic], int],
    env: Mapping[str, str] | None = None,
    workdir: Path | None = None,
) -> Measurement:
    """Run ``command`` as a child, counting what the emulator served while it ran."""
    folder = workdir or setting.folder(f"{contender}-{repeat}")
    before = setting.emulator.stats()
    outcome = run_child(
        command,
        workdir=folder,
        name=contender,
        env={**os.environ, **(env or {})},
        timeout=setting.timeout,
    )
    traffic = setting.emulator.traffic_since(before)
    error = None
    if outcome.returncode != 0:
        error = f"exit {outcome.returncode}: {outcome.tail(5)}"
    return Measurement(
        contender=contender,
        scale=setting.scale,
        latency_ms=setting.latency_ms,
        repeat=repeat,
        seconds=round(outcome.seconds, 3),
        records=records(outcome, traffic) if error is None else traffic.records,
        requests=traffic.requests,
        peak_rss_mb=round(outcome.peak_rss_mb, 1),
        error=error,
    )
