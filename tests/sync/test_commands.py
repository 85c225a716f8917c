"""The ``sql`` and ``sync`` commands' own behaviour: output tables and expected failures."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from outreach_pipeline.cli import main
from outreach_pipeline.commands.sync import summary_table
from outreach_pipeline.sync import StreamResult


def test_sql_prints_a_table(tmp_path: Path, monkeypatch, capsys):
    db_path = tmp_path / "landing.duckdb"
    with duckdb.connect(str(db_path)) as con:
        con.execute("CREATE TABLE prospects AS SELECT 1 AS id, 'Ann' AS first_name")
    monkeypatch.setenv("OUTREACH_DUCKDB_PATH", str(db_path))
    assert main(["sql", "SELECT id, first_name FROM prospects"]) == 0
    out = capsys.readouterr().out
    assert "first_name" in out and "Ann" in out and "(1 row)" in out


def test_sql_reports_bad_queries_and_missing_databases(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("OUTREACH_DUCKDB_PATH", str(tmp_path / "none.duckdb"))
    assert main(["sql", "SELECT 1"]) == 2
    assert "run 'outreach-pipeline sync' first" in capsys.readouterr().err
    db_path = tmp_path / "landing.duckdb"
    duckdb.connect(str(db_path)).close()
    monkeypatch.setenv("OUTREACH_DUCKDB_PATH", str(db_path))
    assert main(["sql", "SELECT * FROM nowhere"]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_sync_refuses_unknown_streams(capsys):
    with pytest.raises(SystemExit):
        main(["sync", "--bogus"])
    assert main(["sync", "--streams", "prospects,nonsense"]) == 2
    assert "unknown stream 'nonsense'" in capsys.readouterr().err


def test_summary_table_has_a_line_per_stream_and_a_total():
    table = summary_table(
        [
            StreamResult("prospects", records_inserted=10, requests=2, duration_s=1.25),
            StreamResult("users", records_updated=3, requests=1, error="stream users: boom"),
        ],
        wall_s=0.75,
    )
    lines = table.splitlines()
    assert lines[0].split() == ["stream", "rows", "deleted", "requests", "seconds", "status"]
    assert lines[2].split() == ["prospects", "10", "0", "2", "1.2", "ok"]
    assert lines[3].split()[-1] == "FAILED"
    # The total's seconds are the run's wall time, not the sum or the longest stream's.
    assert lines[4].split()[:5] == ["total", "13", "0", "3", "0.8"]
