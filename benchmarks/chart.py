"""The PNG chart: records/s and peak RSS per contender, one group of bars per setting."""

from __future__ import annotations

from pathlib import Path

from benchmarks.measurements import Summary


def write_chart(summaries: list[Summary], path: Path) -> Path | None:
    """Draw the chart to ``path``; None when matplotlib is missing (``uv run --group bench``)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    labels = {(s.scale, s.latency_ms, s.profile): s.setting for s in summaries}
    settings = sorted(labels)
    contenders = list(dict.fromkeys(s.contender for s in summaries))
    by_key = {(s.scale, s.latency_ms, s.profile, s.contender): s for s in summaries}
    width = 0.8 / max(1, len(contenders))
    figure, (speed, memory) = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
    for index, contender in enumerate(contenders):
        xs, rates, low, high, rss = [], [], [], [], []
        for position, setting in enumerate(settings):
            s = by_key.get((*setting, contender))
            if s is None:
                continue
            xs.append(position + (index - (len(contenders) - 1) / 2) * width)
            rates.append(s.records_per_s.median)
            low.append(s.records_per_s.median - s.records_per_s.low)
            high.append(s.records_per_s.high - s.records_per_s.median)
            rss.append(s.peak_rss_mb.high)
        speed.bar(xs, rates, width, yerr=[low, high], capsize=3, label=contender)
        memory.bar(xs, rss, width, label=contender)
    speed.set_ylabel("records/s (median, min-max)")
    speed.legend(ncol=3, fontsize="small")
    memory.set_ylabel("peak RSS of the child, MB")
    memory.axhline(400, color="grey", linestyle="--", linewidth=1)
    memory.set_xticks(range(len(settings)))
    memory.set_xticklabels([f"scale {key[0]:,}\n{labels[key]}" for key in settings])
    figure.suptitle("Outreach to DuckDB against the emulator")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
