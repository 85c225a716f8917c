"""One measured run and the summaries (median, min, max) the report is built from."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Measurement:
    contender: str  # reference[+load], floor[+load], ours, ours-incremental, airbyte, dlt
    scale: int
    latency_ms: int
    repeat: int
    seconds: float
    records: int  # records the contender delivered (landed or emitted)
    requests: int  # /api + /oauth requests the emulator answered during the run
    peak_rss_mb: float
    error: str | None = None
    # "cpu": no latency but latency_ms; "latency": the real API's conditions (conditions.py)
    profile: str = "cpu"
    # seconds no contender can beat under the latency profile (see conditions.py), else None
    bound_s: float | None = None

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def to_dict(self) -> dict[str, float]:
        return {"min": self.low, "median": self.median, "max": self.high}


@dataclass(frozen=True)
class Summary:
    """The repeats of one contender at one (scale, latency)."""

    contender: str
    scale: int
    latency_ms: int
    runs: int  # successful ones
    failures: list[str]
    seconds: Spread
    records_per_s: Spread
    records: int
    requests: int
    peak_rss_mb: Spread
    profile: str = "cpu"
    bound_s: float | None = None

    @property
    def setting(self) -> str:
        """What the contenders ran under, for headings and tables."""
        if self.profile == "latency":
            return "the real API's latency and limits"
        return f"{self.latency_ms} ms added per request"

    @property
    def bound_ratio(self) -> float | None:
        """Median wall time over the critical-path bound (1.0: as fast as can be)."""
        if self.bound_s is None or self.bound_s <= 0 or not self.measured:
            return None
        return self.seconds.median / self.bound_s

    @property
    def measured(self) -> bool:
        """At least one run succeeded (the figures are of successful runs only)."""
        return self.runs > 0 and self.seconds.median > 0 and self.records_per_s.median > 0

    @property
    def requests_per_1000(self) -> float:
        return 1000 * self.requests / self.records if self.records else 0.0

    def to_dict(self) -> dict[str, Any]:
        """For benchmark.json: min, median and max of the successful runs, and how many ran."""
        return {
            "contender": self.contender,
            "scale": self.scale,
            "latency_ms": self.latency_ms,
            "runs": self.runs,
            "failed": len(self.failures),
            "seconds": self.seconds.to_dict(),
            "records_per_s": self.records_per_s.to_dict(),
            "peak_rss_mb": self.peak_rss_mb.to_dict(),
            "records": self.records,
            "requests": self.requests,
            "profile": self.profile,
            "bound_s": self.bound_s,
            "wall_over_bound": None if self.bound_ratio is None else round(self.bound_ratio, 3),
        }


def results_document(measurements: list[Measurement], meta: dict[str, Any]) -> dict[str, Any]:
    """benchmark.json: the run's metadata, each contender's summary and every run."""
    return {
        "meta": meta,
        "summaries": [s.to_dict() for s in summarize(measurements)],
        "runs": [m.to_dict() for m in measurements],
    }


def summarize(measurements: list[Measurement]) -> list[Summary]:
    """One summary per (scale, latency, profile, contender), in the order first measured."""
    groups: dict[tuple[int, int, str, str], list[Measurement]] = {}
    for m in measurements:
        groups.setdefault((m.scale, m.latency_ms, m.profile, m.contender), []).append(m)
    summaries = []
    for (scale, latency_ms, profile, contender), runs in groups.items():
        ok = [m for m in runs if m.error is None]
        good = ok or runs
        summaries.append(
            Summary(
                contender=contender,
                scale=scale,
                latency_ms=latency_ms,
                runs=len(ok),
                failures=[m.error for m in runs if m.error is not None],
                seconds=Spread.of([m.seconds for m in good]),
                records_per_s=Spread.of([m.records_per_s for m in good]),
                records=int(statistics.median([m.records for m in good])),
                requests=int(statistics.median([m.requests for m in good])),
                peak_rss_mb=Spread.of([m.peak_rss_mb for m in good]),
                profile=profile,
                bound_s=good[0].bound_s,
            )
        )
    return summaries
