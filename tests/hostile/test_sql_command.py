"""``outreach-pipeline sql`` as users meet it (issue #16): an empty query or a bad option is
one line and exit 2, not a traceback; DuckDB's hint, candidates and caret reach the user; and
without a query it is an interactive shell (driven here through a pipe and a terminal)."""

from __future__ import annotations

import os
import pty
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from outreach_pipeline import cli
from outreach_pipeline.landing.read_snapshot import snapshot_path
from tests.sync.processes import ROOT


@pytest.fixture
def landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A landing written by another tool (so the first read publishes its snapshot)."""
    db_path = tmp_path / "landing.duckdb"
    with duckdb.connect(str(db_path)) as con:
        con.execute("CREATE SCHEMA outreach")
        con.execute(
            "CREATE TABLE outreach.prospects AS "
            "SELECT range AS id, 'name ' || range AS first_name FROM range(3)"
        )
        con.execute("CREATE VIEW prospects AS SELECT * FROM outreach.prospects")
    monkeypatch.setenv("OUTREACH_DUCKDB_PATH", str(db_path))
    return db_path


def _sql(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["sql", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("query", ["", "   \n\t", "-- just a comment", "/* a comment */", ";"])
def test_an_empty_query_is_one_line(
    query: str, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _sql(capsys, query)
    assert (code, out) == (2, "")
    (line,) = err.splitlines()
    assert line.startswith("outreach-pipeline sql: the query is empty")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--max-rows", "-1"], "--max-rows must be at least 1, not -1"),
        (["--max-rows", "0"], "--max-rows must be at least 1, not 0"),
        (["--max-width", "0"], "--max-width must be at least 1, not 0"),
    ],
)
def test_bad_limits_are_one_line(
    args: list[str], named: str, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _sql(capsys, *args, "SELECT * FROM prospects")
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"outreach-pipeline sql: {named}"]


def test_max_rows_says_when_more_were_left_out(
    landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _sql(capsys, "--max-rows", "2", "SELECT * FROM prospects ORDER BY id")
    assert code == 0
    assert out.splitlines()[-1] == "(2 rows (more not shown))"


@pytest.mark.parametrize(
    ("query", "details"),
    [
        ("SELECT * FROM prospect", ['Did you mean "prospects"?', "LINE 1: SELECT * FROM prospect"]),
        ("SELECT nme FROM prospects", ["Candidate bindings:", "first_name", "LINE 1:"]),
    ],
)
def test_duckdb_errors_keep_their_hint_and_caret(
    query: str, details: list[str], landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _sql(capsys, query)
    assert (code, out) == (2, "")
    for detail in details:
        assert detail in err
    assert err.rstrip().splitlines()[-1].strip().startswith("^")


def _shell(landing: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "outreach_pipeline.cli", "sql"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "OUTREACH_DUCKDB_PATH": str(landing)},
        timeout=60,
    )


def test_the_shell_reads_statements_from_a_pipe(landing: Path) -> None:
    done = _shell(
        landing,
        "SELECT count(*) AS n\n  FROM prospects\n  WHERE id >= 1;\n"
        ".tables\n"
        "SELECT nme FROM prospects;\n"
        "\n"
        "SELECT 'still here' AS after_the_error;\n"
        ".nonsense\n"
        ".quit\n"
        "SELECT 'never run';\n",
    )
    assert done.returncode == 1, done.stderr  # a statement failed
    assert "Traceback" not in done.stderr
    assert "sql>" not in done.stdout  # no prompts without a terminal
    blocks = done.stdout.split("\n(")
    assert blocks[0].splitlines()[-1].strip() == "2"
    assert "outreach  prospects  base table" in done.stdout
    assert "main      prospects  view" in done.stdout
    assert "still here" in done.stdout and "never run" not in done.stdout
    assert "Error: Binder Error" in done.stderr and "Candidate bindings" in done.stderr
    assert "Error: unknown command .nonsense: .help lists them" in done.stderr


def test_the_shell_ends_at_the_end_of_input(landing: Path) -> None:
    done = _shell(landing, "SELECT 41 + 1 AS answer")  # no ';': runs at the end
    assert done.returncode == 0, done.stderr
    assert "42" in done.stdout and done.stderr == ""


def _read_until(fd: int, text: str, timeout: float = 30) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while text not in seen:
        assert time.monotonic() < deadline, seen
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            seen += os.read(fd, 4096).decode(errors="replace")
    return seen


def test_the_shell_on_a_terminal_prompts_and_keeps_a_private_history(
    landing: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "outreach_pipeline.cli", "sql"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=ROOT,
        env={**os.environ, "OUTREACH_DUCKDB_PATH": str(landing), "XDG_STATE_HOME": str(state)},
    )
    os.close(follower)
    try:
        _read_until(leader, "sql> ")
        os.write(leader, b"SELECT first_name\r")
        _read_until(leader, "..> ")
        os.write(leader, b"FROM prospects WHERE id = 2;\r")
        assert "name 2" in _read_until(leader, "sql> ")
        os.write(leader, b".quit\r")
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
        os.close(leader)
    history = state / "outreach-pipeline" / "sql_history"
    assert "FROM prospects WHERE id = 2;" in history.read_text()
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    assert snapshot_path(landing).exists()  # what the shell read
