"""Per-request latency drawn from a distribution, as the real API answers: most requests take a
few hundred milliseconds, a few take seconds, and a page of 1000 records takes longer than a
page of 10.

The model is lognormal around a median that grows with the records in the answer:
``median(n) = base + n * per_record`` and ``latency = median(n) * exp(sigma * Z)``, Z standard
normal. Its mean, ``median(n) * exp(sigma**2 / 2)``, is what the benchmarks' critical-path
bound sums over a stream's pages (:meth:`LatencyModel.expected`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class LatencyModel:
    base: float  # seconds: the median of an answer without records
    per_record: float  # seconds the median grows by per record in the answer
    sigma: float  # spread of the lognormal (0: every answer takes its median)

    def median(self, records: int) -> float:
        return self.base + records * self.per_record

    def expected(self, records: int) -> float:
        """The mean latency of an answer with ``records`` records."""
        return self.median(records) * math.exp(self.sigma**2 / 2)

    def quantile(self, records: int, z: float) -> float:
        """The latency at standard-normal quantile ``z`` (2.326: the 99th percentile)."""
        return self.median(records) * math.exp(self.sigma * z)

    def draw(self, records: int, rng: random.Random) -> float:
        return self.median(records) * math.exp(self.sigma * rng.gauss(0.0, 1.0))


# Named models, for ``outreach-pipeline emulator --latency-profile NAME``. ``realistic``: 200 ms
# for an answer without records, 350 ms median for a page of 1000, a tail where the 99th
# percentile is 8x the median (about 2.8 s for a page of 1000). The real API's figures are not
# published; these follow what connectors' users report (a few hundred ms a page, seconds now
# and then). The median request of a full sync, mostly pages of 1000, is about 300-350 ms.
LATENCY_PROFILES: dict[str, LatencyModel | None] = {
    "none": None,
    "realistic": LatencyModel(base=0.2, per_record=0.00015, sigma=0.9),
}


def latency_model(name: str) -> LatencyModel | None:
    if name not in LATENCY_PROFILES:
        raise ValueError(f"unknown latency profile {name!r}; known: {sorted(LATENCY_PROFILES)}")
    return LATENCY_PROFILES[name]
