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
