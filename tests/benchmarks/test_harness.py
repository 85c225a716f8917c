"""Smoke test of the benchmark harness at a tiny scale (the real runs are not part of the suite).

The peers are left out here: installing them takes minutes the first time;
tests/fidelity runs Airbyte's connector, and ``python -m benchmarks.run`` runs both.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from pytest import MonkeyPatch

from benchmarks import conditions, floor, memory_profile, memory_sampled, readme, run
from benchmarks.emulator import EmulatorProcess
from benchmarks.floor import fetch_all, next_link
from benchmarks.measurements import Measurement, summarize
from benchmarks.peers import dlt
from benchmarks.report import markdown
from benchmarks.setting import ROOT
from benchmarks.targets import check
from outreach_pipeline.catalog import default_streams


def test_next_link_reads_the_top_level_link_only() -> None:
    page = (
        b'{"data":[{"id":1,"links":{"self":"http://x/api/v2/users/1"}}],'
        b'"links":{"first":"http://x/a","next":"http://x/api/v2/users?page[after]=Wz\\/Il0"},'
        b'"meta":{}}'
    )
    assert next_link(page) == "http://x/api/v2/users?page[after]=Wz/Il0"
    last = b'{"data":[{"id":1,"links":{"self":"http://x/1"}}],"links":{"first":"http://x/a"}}'
    assert next_link(last) is None
    assert next_link(b'{"data":[],"meta":{}}') is None


def measurement(contender: str, seconds: float, records: int, requests: int) -> Measurement:
    return Measurement(contender, 100, 0, 1, seconds, records, requests, peak_rss_mb=150.0)


def test_targets_and_report_from_measurements() -> None:
    runs = [
        measurement("floor+load", 1.0, 1000, 10),
        measurement("ours", 1.4, 1000, 10),
        measurement("airbyte", 6.0, 900, 20),
        measurement("dlt", 3.0, 1000, 12),
    ]
    checks = {c.target: c for c in check(summarize(runs))}
    assert not checks["wall <= 1.0x floor+load"].met
    assert checks["records/s >= 3x airbyte"].met
    assert not checks["records/s >= 3x dlt"].met
    assert checks["requests/1000 records <= fewest peer's"].met
    assert checks["peak RSS < 400 MB"].met
    document = markdown(runs, {"cpus": 2}, chart=None)
    assert "| ours | 1 | 1.40 (1.40-1.40) | 1,000 |" in document
    assert "**no**" in document


def test_harness_runs_the_fetch_loops_and_ours_at_tiny_scale(tmp_path: Path) -> None:
    only = "reference,reference+load,floor,floor+load,ours"
    args = ["--scale", "20", "--repeat", "1", "--only", only]
    assert run.main([*args, "--out", str(tmp_path)]) == 0
    document = json.loads((tmp_path / "benchmark.json").read_text())
    runs = document["runs"]
    by_name = {r["contender"]: r for r in runs}
    assert set(by_name) == {*run.FETCH_LOOPS, "ours", "ours-incremental"}
    meta = document["meta"]
    assert meta["repeat"] == meta["peer_repeat"] == 1
    assert meta["commit"] and meta["machine"] and meta["started"]
    ours = next(s for s in document["summaries"] if s["contender"] == "ours")
    assert ours["runs"] == 1
    assert ours["seconds"] == dict.fromkeys(("min", "median", "max"), by_name["ours"]["seconds"])
    for loop in run.FETCH_LOOPS:
        assert by_name[loop]["records"] == by_name["ours"]["records"] > 0, loop
        assert by_name[loop]["requests"] == by_name["reference"]["requests"], loop
    assert by_name["ours"]["requests"] > 0
    assert all(r["error"] is None and r["peak_rss_mb"] > 0 for r in runs)
    assert 0 < by_name["ours-incremental"]["records"] < by_name["ours"]["records"]
    assert "## Scale 20, 0 ms added per request" in (tmp_path / "benchmark.md").read_text()


def test_the_floor_fetches_streams_at_once_and_loads_while_fetching(tmp_path: Path) -> None:
    with EmulatorProcess(scale=20, seed=1, rate_limit=1_000_000) as emulator:
        token = emulator.grant()["access_token"]
        emulator.set_latency(0.05)
        loaded: list[str] = []
        started = time.perf_counter()
        pages = fetch_all(
            emulator.api_url,
            token,
            None,
            concurrency=floor.CONCURRENCY,
            on_fetched=lambda stream: loaded.append(stream.table),
        )
        took = time.perf_counter() - started
    # Serial, every page would wait 50 ms in turn.
    assert took < pages * 0.05 / 2
    assert sorted(loaded) == sorted(s.table for s in default_streams())


def test_the_readme_table_is_the_one_generated_from_benchmark_json() -> None:
    document = json.loads((run.RESULTS / "benchmark.json").read_text())
    written = readme.current_block((ROOT / "README.md").read_text())
    assert written == readme.table(document), (
        "README.md's benchmark table differs from benchmarks/results/benchmark.json: "
        "run `uv run python -m benchmarks.report --readme`"
    )


def test_the_readme_table_leaves_out_what_the_json_does_not_hold() -> None:
    runs = [measurement("ours", 1.4, 1000, 10), measurement("mystery", 2.0, 1000, 10)]
    meta = {"started": "2026-12-01 00:00:00 UTC", "cpus": 2, "command": "x"}
    block = readme.table({"meta": meta, "runs": [m.to_dict() for m in runs]})
    assert "| **outreach-pipeline**, full sync | 1 | 1.40 |" in block
    assert "| mystery | 1 | 2.00 |" in block
    assert "floor" not in block and "commit not recorded" in block
    assert readme.replace_block(f"a\n{readme.START}\nold\n{readme.END}\nb", block) == (
        f"a\n{readme.START}\n{block}\n{readme.END}\nb"
    )


def test_each_peer_contender_is_measured_under_its_own_name(monkeypatch: MonkeyPatch) -> None:
    """dlt runs twice, tuned ("dlt") and with its defaults ("dlt-defaults"): each runner must
    hand its own name to the peer's ``measure``, which picks the settings by it. (Installing
    and running the peers takes minutes: ``python -m benchmarks.run`` does that.)"""
    asked: list[str] = []

    def fake_measure(_setting: object, repeat: int, _venv: Path, contender: str) -> Measurement:
        asked.append(contender)
        return measurement(contender, 1.0, 10, 1)

    monkeypatch.setattr(dlt, "install", lambda: Path("venv"))
    monkeypatch.setattr(dlt, "measure", fake_measure)
    notes: list[str] = []
    chosen = run.runners(["ours", "dlt", "dlt-defaults"], notes)
    assert list(chosen) == ["ours", "dlt", "dlt-defaults"] and not notes
    measured = [m for name in ("dlt", "dlt-defaults") for m in chosen[name](None, 1)]  # type: ignore[arg-type]
    assert asked == ["dlt", "dlt-defaults"] == [m.contender for m in measured]


def test_the_bound_is_the_longest_chain_or_the_limit_beyond_one_window() -> None:
    assert conditions.stream_pages(2500, 1000) == [1000, 1000, 500]
    assert conditions.stream_pages(0, 1000) == [0]
    model = conditions.model()
    found = conditions.bound({"mailings": 3000, "events": 2500}, conditions.RateLimit(10, 36))
    # 44 default streams, one page each but mailings' 3 and events' 3.
    assert found.pages == len(default_streams()) + 4
    assert found.path_stream == "mailings"
    assert found.path_seconds == pytest.approx(3 * model.expected(1000))
    assert found.rate_seconds == pytest.approx((found.pages - 10) / 10 * 36)
    assert found.seconds == found.rate_seconds
    hour = conditions.RateLimit.hour_of(3600)
    assert (hour.limit, conditions.RateLimit.hour_of(36).limit) == (10_000, 100)
    assert conditions.bound({"mailings": 3000}, hour).seconds == found.path_seconds


def latency_run(contender: str, seconds: float, requests: int, bound_s: float) -> Measurement:
    return Measurement(
        contender, 20000, 0, 1, seconds, 1000, requests, 150.0, profile="latency", bound_s=bound_s
    )


def test_latency_targets_and_tables_carry_the_bound() -> None:
    runs = [
        latency_run("ours", 12.0, 1000, 10.0),
        latency_run("ours-incremental", 3.0, 30, 0.5),
        latency_run("dlt", 50.0, 1000, 10.0),
    ]
    checks = {c.target: c for c in check(summarize(runs))}
    assert checks["ours wall <= 1.25x critical-path bound"].met
    assert checks["ours wall <= 1.25x critical-path bound"].measured.startswith("1.20x")
    assert not checks["ours-incremental wall <= 1.25x critical-path bound"].met
    assert not checks["incremental (1% changed) requests <= 2% of full"].met
    assert checks["records/s >= 3x dlt"].met
    assert "wall <= 1.0x floor+load" not in checks
    document = markdown(runs, {"profile": "latency"}, chart=None)
    assert "## Scale 20,000, the real API's latency and limits" in document
    assert "| 10.0 | 1.20x |" in document
    block = readme.table({"meta": {"profile": "latency"}, "runs": [m.to_dict() for m in runs]})
    assert "wall / bound |" in block and "| 0.5 | 6.00x |" in block
    assert readme.markers({"meta": {"profile": "latency"}}) == (
        readme.LATENCY_START,
        readme.LATENCY_END,
    )


def test_the_readme_latency_table_is_the_one_generated_or_says_not_measured() -> None:
    path = ROOT / readme.LATENCY_JSON
    expected = readme.table(json.loads(path.read_text())) if path.exists() else readme.NOT_MEASURED
    written = (ROOT / "README.md").read_text()
    assert readme.current_block(written, readme.LATENCY_START, readme.LATENCY_END) == expected


def test_the_latency_profile_records_bounds_at_tiny_scale(tmp_path: Path) -> None:
    args = ["--profile", "latency", "--scale", "20", "--repeat", "1", "--only", "floor"]
    assert run.main([*args, "--out", str(tmp_path)]) == 0
    document = json.loads((tmp_path / "benchmark.json").read_text())
    meta = document["meta"]
    assert meta["profile"] == "latency" and meta["faults"] == conditions.FAULTS
    assert meta["rate_limit"] == {"limit": 10_000, "window": 3600}
    bounds = meta["bounds"]["20"]
    assert bounds["incremental"]["seconds"] < bounds["full"]["seconds"]
    floor_summary = document["summaries"][0]
    assert floor_summary["bound_s"] == bounds["full"]["seconds"] > 0
    # The floor cannot beat the latency: each stream waits at least its pages' draws.
    assert floor_summary["wall_over_bound"] > 0.5
    assert "critical-path bound s | wall / bound |" in (tmp_path / "benchmark.md").read_text()
    incremental = latency_run("ours-incremental", 1.0, 10, 0.0)
    found = {
        "full": conditions.Bound(9.0, 9.0, "mailings", 0.0, 9, 20.0),
        "incremental": conditions.Bound(1.0, 1.0, "users", 0.0, 1, 1.0),
    }
    assert run.with_bound(incremental, "latency", found).bound_s == 1.0
    assert run.with_bound(latency_run("dlt", 1.0, 10, 0.0), "latency", found).bound_s == 9.0


def test_the_memory_profile_says_what_each_variant_peaked_with(tmp_path: Path) -> None:
    out = tmp_path / "memory.json"
    memory_profile.main(
        ["--scale", "100", "--variant", "", "--variant", "batch_rows=50", "--out", str(out)]
    )
    measured = json.loads(out.read_text())
    assert [one["variant"] for one in measured] == ["", "batch_rows=50"]
    for one in measured:
        assert one["failed"] == [] and one["records"] > 0 and one["requests"] > 40
        peak = one["peak"]
        # The child's own high-water mark is at least the sampled peak it is made of.
        assert one["peak_rss_mb"] >= peak["anon_mb"] + peak["file_mb"] - 1
        assert peak["file_mb"] > 0 and peak["threads"] > 1 and one["samples"]


def test_the_memory_profile_refuses_an_unknown_option() -> None:
    with pytest.raises(SystemExit, match="unknown option 'batch_megabytes'"):
        memory_sampled.options_from(["batch_megabytes=4"])
    assert memory_sampled.options_from(["batch_rows=7"]).batch_rows == 7
