"""The Markdown report (and the chart beside it) from the measured runs.

uv run python -m benchmarks.report --readme   # README.md's table from benchmark.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks import readme
from benchmarks.chart import write_chart
from benchmarks.measurements import Measurement, Spread, Summary, summarize
from benchmarks.setting import ROOT
from benchmarks.targets import check

HEADER = (
    "| contender | runs | wall s median (min-max) | records | records/s median | requests "
    "| req/1000 rec | peak RSS MB median (min-max) | vs ours |"
)
BOUND_HEADER = " critical-path bound s | wall / bound |"


def header(bounded: bool) -> str:
    """The table's head, with the bound's columns when the setting has a bound."""
    head = HEADER + (BOUND_HEADER if bounded else "")
    return head + "\n" + "|---" + "|---:" * 7 + "|---|" + "---:|---:|" * bounded


def spread(s: Spread, digits: int = 2) -> str:
    return f"{s.median:.{digits}f} ({s.low:.{digits}f}-{s.high:.{digits}f})"


def versus_ours(summary: Summary, ours: Summary | None) -> str:
    """Wall-time ratio to ours (and ours' records/s over a peer's)."""
    if ours is None or summary.contender in ("ours", "ours-incremental") or not summary.measured:
        return ""
    wall = ours.seconds.median / summary.seconds.median
    if summary.contender.startswith(("reference", "floor")):
        return f"ours/{summary.contender} wall {wall:.2f}x"
    speed = ours.records_per_s.median / summary.records_per_s.median
    return f"{summary.contender}/ours wall {1 / wall:.2f}x; ours {speed:.2f}x its records/s"


def bound_cells(summary: Summary) -> str:
    """`` bound | ratio |`` of a summary with a bound; the empty string without."""
    if summary.bound_s is None:
        return ""
    ratio = summary.bound_ratio
    return f" {summary.bound_s:.1f} | {'' if ratio is None else f'{ratio:.2f}x'} |"


def row(summary: Summary, ours: Summary | None) -> str:
    failed = f" ({len(summary.failures)} failed)" if summary.failures else ""
    return (
        f"| {summary.contender}{failed} | {summary.runs} | {spread(summary.seconds)} "
        f"| {summary.records:,} | {summary.records_per_s.median:,.0f} | {summary.requests:,} "
        f"| {summary.requests_per_1000:.2f} | {spread(summary.peak_rss_mb, 0)} "
        f"| {versus_ours(summary, ours)} |{bound_cells(summary)}"
    )


def setting_section(summaries: list[Summary]) -> list[str]:
    first = summaries[0]
    ours = next((s for s in summaries if s.contender == "ours"), None)
    bounded = any(s.bound_s is not None for s in summaries)
    lines = [f"## Scale {first.scale:,}, {first.setting}", "", header(bounded)]
    lines += [row(s, ours) for s in summaries]
    failures = [f"- {s.contender}: {error}" for s in summaries for error in s.failures]
    return [*lines, "", *failures, *([""] if failures else [])]


def scaling_section(summaries: list[Summary]) -> list[str]:
    """Ours at each scale (no added latency): time per 1,000 records and peak RSS."""
    ours = sorted(
        (
            s
            for s in summaries
            if s.contender == "ours" and s.latency_ms == 0 and s.profile == "cpu"
        ),
        key=lambda s: s.scale,
    )
    if len(ours) < 2:
        return []
    lines = [
        "## Scaling (ours, full sync)",
        "",
        "| scale | records | wall s | s per 1,000 records | peak RSS MB |",
        "|---:|---:|---:|---:|---:|",
    ]
    for s in ours:
        per_thousand = 1000 * s.seconds.median / s.records
        lines.append(
            f"| {s.scale:,} | {s.records:,} | {s.seconds.median:.2f} | {per_thousand:.3f} "
            f"| {s.peak_rss_mb.high:.0f} |"
        )
    return [*lines, ""]


def targets_section(groups: list[list[Summary]]) -> list[str]:
    checks = [c for group in groups for c in check(group)]
    if not checks:
        return []
    lines = [
        "## Targets",
        "",
        "| scale | setting | target | measured | met |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {c.scale:,} | {c.setting} | {c.target} | {c.measured} "
        f"| {'yes' if c.met else '**no**'} |"
        for c in checks
    ]
    return [*lines, ""]


def markdown(measurements: list[Measurement], meta: dict[str, Any], chart: str | None) -> str:
    summaries = summarize(measurements)
    groups: dict[tuple[int, int, str], list[Summary]] = {}
    for s in summaries:
        groups.setdefault((s.scale, s.latency_ms, s.profile), []).append(s)
    lines = ["# Benchmark results", ""]
    lines += [f"- {key}: {value}" for key, value in meta.items() if key not in ("notes", "bounds")]
    lines += [
        f"- critical-path bound at scale {int(scale):,}, {kind} sync: {bound}"
        for scale, kinds in meta.get("bounds", {}).items()
        for kind, bound in kinds.items()
    ]
    lines += [f"- note: {note}" for note in meta.get("notes", [])]
    lines += ["", f"![chart]({chart})", ""] if chart else [""]
    for group in groups.values():
        lines += setting_section(group)
    lines += scaling_section(summaries)
    lines += targets_section(list(groups.values()))
    return "\n".join(lines)


def write(measurements: list[Measurement], meta: dict[str, Any], out: Path) -> list[Path]:
    """``benchmark.md`` and, with matplotlib, ``benchmark.png`` in ``out``."""
    chart = write_chart(summarize(measurements), out / "benchmark.png")
    document = out / "benchmark.md"
    document.write_text(markdown(measurements, meta, chart.name if chart else None))
    return [document, *([chart] if chart else [])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "benchmark.json"
    )
    parser.add_argument(
        "--readme", action="store_true", help="rewrite README.md's table from the JSON"
    )
    args = parser.parse_args(argv)
    document = json.loads(args.json.read_text())
    if args.readme:
        changed = readme.update(ROOT / "README.md", document)
        print("README.md " + ("updated" if changed else "already agrees with the JSON"))
    else:
        runs = [Measurement(**run) for run in document["runs"]]
        for path in write(runs, document["meta"], args.json.parent):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
