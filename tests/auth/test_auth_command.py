"""`outreach-pipeline auth login|status|logout` through the command-line entry point."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from outreach_emulator import Emulator
from outreach_pipeline import cli
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.settings import Settings
from tests.auth.auth_support import settings_from, store_issued_grant


@pytest.fixture
def environment(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def open_in_background(url: str) -> bool:
    threading.Thread(target=httpx.get, args=(url,), kwargs={"follow_redirects": True}).start()
    return True


def test_login_status_logout(
    oauth_emulator: Emulator,
    environment: dict[str, str],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("webbrowser.open", open_in_background)
    login = ["auth", "login", "--credentials", "development", "--streams", "prospects"]
    assert cli.main([*login, "--timeout", "10"]) == 0
    assert "Authorized (development credentials)" in capsys.readouterr().out

    assert cli.main(["auth", "status"]) == 0
    status = capsys.readouterr().out
    for expected in (
        "Credentials: development",
        "Authorized by: user 1 <user1@",
        "Scopes: prospects.read users.read",
        "Granted: ",
        "Last refresh: never",
        "Access token expires: ",
        "Development grant expires",
        "Needs reauthorization: no",
    ):
        assert expected in status

    assert cli.main(["auth", "logout"]) == 0
    assert "Forgot the grant" in capsys.readouterr().out
    assert open_token_store(settings).load() is None
    assert cli.main(["auth", "status"]) == 1
    assert "Needs reauthorization: yes: no grant is stored" in capsys.readouterr().out
    assert cli.main(["auth", "logout"]) == 0


def test_expected_failures_are_one_line_messages(
    oauth_emulator: Emulator, environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["auth", "login", "--no-browser", "--streams", "nonsense"]) == 2
    assert "unknown stream 'nonsense'" in capsys.readouterr().err
    assert cli.main(["auth", "login", "--no-browser", "--timeout", "0.2"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("outreach-pipeline auth: no authorization arrived")
    assert error.count("\n") == 1


def test_grants_by_name_list_status_and_logout(
    oauth_emulator: Emulator,
    environment: dict[str, str],
    store_location: Path | str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two grants (two users) in either store: listed, shown and forgotten one by one; the
    list and the status never show a token."""
    monkeypatch.setenv("OUTREACH_TOKEN_STORE", str(store_location))
    settings = settings_from({**environment, "OUTREACH_TOKEN_STORE": str(store_location)})
    assert cli.main(["auth", "list"]) == 0
    assert "No grant is stored" in capsys.readouterr().out
    issued = [
        store_issued_grant(oauth_emulator, settings),
        store_issued_grant(oauth_emulator, settings.for_grant("acme"), user_id=2),
    ]
    tokens = [t.reveal() for grant in issued for t in (grant.access_token, grant.refresh_token)]

    assert cli.main(["auth", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split() == ["GRANT", "STATE", "ACCESS", "TOKEN", "EXPIRES", "AUTHORIZED", "BY"]
    assert [line.split()[:2] for line in listed[1:]] == [["default", "ok"], ["acme", "ok"]]

    assert cli.main(["auth", "status", "--grant", "acme"]) == 0
    status = capsys.readouterr().out
    assert "Grant: acme" in status and "Needs reauthorization: no" in status

    assert cli.main(["auth", "logout", "--grant", "acme"]) == 0
    assert "Forgot the grant acme stored in" in capsys.readouterr().out
    assert cli.main(["auth", "status", "--grant", "acme"]) == 1
    assert "auth login --grant acme" in capsys.readouterr().out

    assert cli.main(["auth", "status", "--all"]) == 0
    everything = capsys.readouterr().out
    assert "== grant default ==" in everything and "acme" not in everything
    assert not any(token in listed_text for token in tokens for listed_text in (status, everything))
    assert not any(token in line for token in tokens for line in listed)

    assert cli.main(["auth", "status", "--grant", "Bad Name"]) == 2
    assert "OUTREACH_GRANT" in capsys.readouterr().err
