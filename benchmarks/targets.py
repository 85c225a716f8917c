"""The issue's targets, checked against the summaries of one (scale, latency)."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.measurements import Summary

PEERS = ("airbyte", "dlt")
MAX_VS_FLOOR_PLUS_LOAD = 1.5
MIN_VS_PEERS = 3.0
MIN_VS_PEERS_WITH_LATENCY = 4.0
MAX_RSS_MB = 400.0


@dataclass(frozen=True)
class Check:
    target: str
    scale: int
    latency_ms: int
    measured: str
    met: bool


def check(summaries: list[Summary]) -> list[Check]:
    """Every target that the contenders measured at this (scale, latency) allow checking."""
    by_name = {s.contender: s for s in summaries}
    ours = by_name.get("ours")
    if ours is None or not ours.measured:
        return []
    checks: list[Check] = []

    def add(target: str, measured: str, met: bool) -> None:
        checks.append(Check(target, ours.scale, ours.latency_ms, measured, met))

    base = by_name.get("floor+load")
    if base is not None and base.measured and ours.latency_ms == 0:
        ratio = ours.seconds.median / base.seconds.median
        met = ratio <= MAX_VS_FLOOR_PLUS_LOAD
        add(f"wall <= {MAX_VS_FLOOR_PLUS_LOAD}x floor+load", f"{ratio:.2f}x", met)
    peers = [by_name[p] for p in PEERS if p in by_name and by_name[p].measured]
    wanted = MIN_VS_PEERS_WITH_LATENCY if ours.latency_ms else MIN_VS_PEERS
    for peer in peers:
        ratio = ours.records_per_s.median / peer.records_per_s.median
        add(f"records/s >= {wanted:g}x {peer.contender}", f"{ratio:.2f}x", ratio >= wanted)
    if peers:
        fewest = min(peers, key=lambda p: p.requests_per_1000)
        add(
            "requests/1000 records <= fewest peer's",
            f"{ours.requests_per_1000:.2f} vs {fewest.requests_per_1000:.2f} ({fewest.contender})",
            ours.requests_per_1000 <= fewest.requests_per_1000,
        )
    add(
        f"peak RSS < {MAX_RSS_MB:g} MB",
        f"{ours.peak_rss_mb.high:.0f} MB",
        ours.peak_rss_mb.high < MAX_RSS_MB,
    )
    return checks
