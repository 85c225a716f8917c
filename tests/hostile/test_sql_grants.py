"""``outreach-pipeline sql --grant NAME`` and ``sql --all`` (issue 20): one grant's landing,
or every stored grant's at once with a ``grant`` column; a grant without a database is left
out with a note; bad names, nothing stored and nothing synced are one line and exit 2; the
union session is as closed as a single landing's (no other file, no DETACH to attach a grant
again for writing), in a query and in the shell."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from outreach_pipeline import cli
from tests.reliability.cli_runs import start_cli

PROSPECTS = {"default": ["Ada", "Bo"], "acme": ["Cy", "Di", "Ed"]}


def _landing(path: Path, names: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA outreach")
        con.execute(
            "CREATE TABLE outreach.prospects (id BIGINT, first_name VARCHAR, _deleted_at TIMESTAMP)"
        )
        for number, name in enumerate(names, start=1):
            con.execute("INSERT INTO outreach.prospects VALUES (?, ?, NULL)", [number, name])
        con.execute(
            "CREATE VIEW main.prospects AS SELECT * EXCLUDE (_deleted_at) "
            "FROM outreach.prospects WHERE _deleted_at IS NULL"
        )


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three stored grants: ``default`` and ``acme`` synced, ``beta`` not yet."""
    folder = tmp_path / "data"
    for grant, names in PROSPECTS.items():
        where = folder if grant == "default" else folder / "grants" / grant
        _landing(where / "landing.duckdb", names)
    for where in (folder, folder / "grants" / "acme", folder / "grants" / "beta"):
        where.mkdir(parents=True, exist_ok=True)
        (where / "grant.json").write_text("{}")  # the token files say which grants are stored
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OUTREACH_DUCKDB_PATH", str(folder / "landing.duckdb"))
    monkeypatch.setenv("OUTREACH_TOKEN_STORE", str(folder / "grant.json"))
    monkeypatch.delenv("OUTREACH_GRANT", raising=False)
    return folder


def _sql(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["sql", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _cells(out: str) -> list[list[str]]:
    """Each line's cells (no cell here holds a space)."""
    return [line.split() for line in out.splitlines()]


def test_all_reads_every_grant_with_its_name(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _sql(capsys, "--all", 'SELECT "grant", first_name FROM prospects ORDER BY ALL')

    assert code == 0, err
    expected = sorted([grant, name] for grant, names in PROSPECTS.items() for name in names)
    assert _cells(out)[2:-1] == expected
    assert err == (
        f"note: grant beta has no database yet ({data}/grants/beta/landing.duckdb), left out; "
        "'outreach-pipeline sync --grant beta' makes it\n"
    )


@pytest.mark.parametrize(
    ("args", "env_grant", "names"),
    [
        ([], None, PROSPECTS["default"]),
        (["--grant", "acme"], None, PROSPECTS["acme"]),
        ([], "acme", PROSPECTS["acme"]),
        (["--grant", "default"], "acme", PROSPECTS["default"]),
    ],
)
def test_one_grant_is_read_alone(
    args: list[str],
    env_grant: str | None,
    names: list[str],
    data: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if env_grant is not None:
        monkeypatch.setenv("OUTREACH_GRANT", env_grant)

    code, out, err = _sql(capsys, *args, "SELECT first_name FROM prospects ORDER BY 1")

    assert (code, err) == (0, "")
    assert _cells(out)[2:-1] == [[name] for name in names]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--grant", "Acme Corp"],
            "--grant: 'Acme Corp' is not a grant name: 1-63 lowercase letters, digits, '-' or "
            "'_', starting with a letter or digit",
        ),
        (["--grant", "../acme"], "--grant: '../acme' is not a grant name"),
        (["--grant", ""], "--grant: '' is not a grant name"),
        (
            ["--grant", "gamma"],
            "no database at {data}/grants/gamma/landing.duckdb; run "
            "'outreach-pipeline sync --grant gamma' first",
        ),
        (["--grant", "acme", "--all"], None),
    ],
)
def test_a_grant_that_cannot_be_read_is_one_line(
    args: list[str], message: str | None, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code, out, err = _sql(capsys, *args, "SELECT 1")
    except SystemExit as stop:  # argparse: the two options exclude each other
        code, out, err = int(str(stop.code)), "", capsys.readouterr().err
    assert (code, out) == (2, "")
    if message is None:
        assert "not allowed with argument" in err
        return
    (line,) = err.splitlines()
    assert line.startswith("outreach-pipeline sql: " + message.format(data=data)), line


def test_all_without_a_stored_grant_or_a_database_is_one_line(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for landing in data.rglob("landing.duckdb"):
        landing.unlink()
    code, out, err = _sql(capsys, "--all", "SELECT 1")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "outreach-pipeline sql: no stored grant has a database yet; run "
        "'outreach-pipeline sync --all-grants' first"
    )

    for token_file in data.rglob("grant.json"):
        token_file.unlink()
    code, out, err = _sql(capsys, "--all", "SELECT 1")
    assert (code, out) == (2, "")
    assert err == (
        f"outreach-pipeline sql: no grant is stored beside {data}/grant.json: authorize one "
        "with 'outreach-pipeline auth login --grant NAME'\n"
    )


@pytest.mark.parametrize(
    "query",
    [
        "DETACH grant_acme",
        "SELECT 1; DETACH DATABASE IF EXISTS grant_acme",
        "ATTACH '{data}/grants/acme/landing.duckdb' AS landing",
        "SELECT * FROM read_text('{data}/grant.json')",
        "SET enable_external_access = true",
    ],
)
def test_all_reaches_nothing_but_the_grants(
    query: str, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _sql(capsys, "--all", query.format(data=data))
    assert (code, out) == (2, "")
    line = err.splitlines()[-1] if "DETACH" in query else err.splitlines()[1]
    assert line.startswith("outreach-pipeline sql: "), err
    assert (
        "DETACH is refused" in line
        or "Permission Error" in line
        or "configuration has been locked" in line
    ), line


def test_the_shell_reads_every_grant(data: Path, tmp_path: Path) -> None:
    env = {
        "OUTREACH_DUCKDB_PATH": str(data / "landing.duckdb"),
        "OUTREACH_TOKEN_STORE": str(data / "grant.json"),
    }
    shell = start_cli(["sql", "--all"], env, tmp_path, stdin=True)
    out, err = shell.communicate(
        '.tables\nSELECT "grant", count(*) AS n FROM outreach.prospects GROUP BY ALL ORDER BY 1;\n'
        "DETACH grant_acme;\n",
        timeout=120,
    )

    assert shell.returncode == 1, err  # the DETACH failed
    lines = _cells(out)
    assert ["main", "prospects", "view"] in lines, out
    assert ["outreach", "prospects", "view"] in lines, out  # not the grants' own tables
    assert not [line for line in lines if line[-2:] == ["base", "table"]], out
    assert ["acme", "3"] in lines and ["default", "2"] in lines, out
    assert err.count("note: grant beta has no database yet") == 1, err
    assert "DETACH is refused" in err
