"""Case 10, bad input from the user: wrong or missing settings, bad arguments, an unwritable
data folder, a redirect URI whose port differs from the registered one, and a pasted redirect
with a wrong state. Each runs the real console script in a child process and must end with a
one-line ``outreach-pipeline <command>: ...`` message that says what to fix, exit code 2 (1 for
``auth status``) and no traceback. The settings' validation itself is tests/test_settings.py.
Only the read-only folder needs root (a bind mount; root ignores file modes): those two cases
are a test of their own, so every other case runs for everyone.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from outreach_emulator import Emulator
from tests.auth.auth_support import PASTE_REDIRECT_URI, free_port
from tests.reliability.cli_runs import start_cli
from tests.reliability.figures import report
from tests.reliability.grants import stored_grant_env
from tests.reliability.mounts import read_only_folder

LOGIN = ["auth", "login", "--no-browser", "--timeout", "30"]


def _expect_one_line(child: subprocess.Popen[str], stdin: str | None, wanted: str) -> str:
    _, err = child.communicate(stdin, timeout=60)
    assert "Traceback" not in err, err
    assert child.returncode == 2, (child.args, child.returncode, err)
    message = err.strip().splitlines()[-1]
    assert message.startswith("outreach-pipeline "), err
    assert wanted in message, (wanted, err)
    return message


def _login_through_paste(child: subprocess.Popen[str], tamper: Callable[[str], str]) -> str:
    """Play the person: open the printed authorize URL, paste back where it redirected."""
    assert child.stdout is not None
    url = next(line.strip() for line in child.stdout if line.startswith("http"))
    redirected = httpx.get(url).headers["location"]
    return tamper(redirected) + "\n"


def test_bad_user_input_is_a_clear_message(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    registered = f"http://127.0.0.1:{free_port()}/callback"
    emulator = make_emulator(redirect_uris=(registered, PASTE_REDIRECT_URI))
    good = stored_grant_env(emulator, tmp_path / "good")
    no_grant = {**good, "OUTREACH_TOKEN_STORE": str(tmp_path / "none" / "grant.json")}
    paste = {**good, "OUTREACH_REDIRECT_URI": PASTE_REDIRECT_URI}
    other_port = {**good, "OUTREACH_REDIRECT_URI": f"http://127.0.0.1:{free_port()}/callback"}
    without_id = {k: v for k, v in good.items() if k != "OUTREACH_CLIENT_ID"}
    cases = [
        (["sync"], without_id, "OUTREACH_CLIENT_ID"),
        (["sync"], {**good, "OUTREACH_API_URL": "api.outreach.io"}, "OUTREACH_API_URL"),
        (["sync"], {**good, "OUTREACH_CLIENT_KIND": "staging"}, "OUTREACH_CLIENT_KIND"),
        (["auth", "login"], {**good, "OUTREACH_REDIRECT_URI": "nope"}, "OUTREACH_REDIRECT_URI"),
        (["sync", "--streams", "prospects,nonsense"], good, "unknown stream 'nonsense'"),
        (["sync", "--batch-rows", "0"], good, "--batch-rows must be at least 1"),
        (["sync", "--chains-per-stream", "0"], good, "--chains-per-stream must be at least 1"),
        (["sync"], no_grant, "run `outreach-pipeline auth login`"),
        (["sql", "SELECT 1"], no_grant | {"OUTREACH_DUCKDB_PATH": "x.duckdb"}, "no database"),
    ]
    children = [(start_cli(args, env, tmp_path), wanted) for args, env, wanted in cases]
    messages = [_expect_one_line(child, None, wanted) for child, wanted in children]

    forged = start_cli(LOGIN, paste, tmp_path, stdin=True)
    pasted = _login_through_paste(forged, lambda url: url.replace("state=", "state=x"))
    messages.append(_expect_one_line(forged, pasted, "state does not match"))

    # The emulator's authorize page refuses the unregistered port: the command says so, and
    # how to fix it, at once (issue 16) instead of waiting out its --timeout for a browser.
    wrong_port = start_cli([*LOGIN[:-1], "300"], other_port, tmp_path)
    message = _expect_one_line(wrong_port, None, "OUTREACH_REDIRECT_URI")
    assert "HTTP 400" in message and "redirect_uri is not registered" in message, message
    messages.append(message)
    report("bad user input", cases=len(messages), messages=messages)


@pytest.mark.skipif(os.geteuid() != 0, reason="the read-only bind mount needs root")
def test_an_unwritable_data_folder_is_a_clear_message(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(redirect_uris=(PASTE_REDIRECT_URI,))
    good = stored_grant_env(emulator, tmp_path / "good")
    paste = {**good, "OUTREACH_REDIRECT_URI": PASTE_REDIRECT_URI}
    with read_only_folder(tmp_path / "read-only") as read_only:
        unwritable_db = {**good, "OUTREACH_DUCKDB_PATH": str(read_only / "landing.duckdb")}
        unwritable_store = {**paste, "OUTREACH_TOKEN_STORE": str(read_only / "grant.json")}
        sync = start_cli(["sync"], unwritable_db, tmp_path)
        messages = [_expect_one_line(sync, None, "Read-only file system")]
        login = start_cli(LOGIN, unwritable_store, tmp_path, stdin=True)
        pasted = _login_through_paste(login, lambda url: url)
        messages.append(_expect_one_line(login, pasted, "Read-only file system"))
    report("bad user input, read-only folder", cases=len(messages), messages=messages)
