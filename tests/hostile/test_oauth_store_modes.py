"""Issue 15, item 5 (file modes): a token store, or its lock file, that became readable by
other users is made private (0600) again with a warning instead of being used as it is; the
lock and temporary files are created private whatever the umask."""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

import pytest

from outreach_pipeline.auth.errors import TokenStoreError
from outreach_pipeline.auth.token_store import FileTokenStore
from outreach_pipeline.settings import grant_file
from tests.hostile.oauth_support import cli, environment, stored_grant


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o666, 0o604], ids=oct)
def test_a_store_open_to_others_is_made_private_with_a_warning(
    loose: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = environment("http://127.0.0.1:9", tmp_path)
    grant = stored_grant(env, expired=False)
    path = Path(env["OUTREACH_TOKEN_STORE"])
    path.chmod(loose)
    with caplog.at_level(logging.WARNING):
        assert FileTokenStore(path).load() == grant
    assert _mode(path) == 0o600
    assert "open to other users" in caplog.text and "auth login" in caplog.text


def test_a_named_grant_open_to_others_advises_logging_in_that_grant(tmp_path: Path) -> None:
    """A plain ``auth login`` would replace the default grant and leave this one exposed."""
    env = environment("http://127.0.0.1:9", tmp_path)
    path = grant_file(Path(env["OUTREACH_TOKEN_STORE"]), "sales")
    stored_grant({**env, "OUTREACH_TOKEN_STORE": str(path)}, expired=False)
    path.chmod(0o644)
    status = cli({**env, "OUTREACH_GRANT": "sales"}, "auth", "status")
    assert status.returncode == 0, status.stderr
    assert "run `outreach-pipeline auth login --grant sales` for a new grant" in status.stderr
    assert _mode(path) == 0o600


def test_auth_status_repairs_the_mode_and_says_so(tmp_path: Path) -> None:
    env = environment("http://127.0.0.1:9", tmp_path)
    stored_grant(env, expired=False)
    path = Path(env["OUTREACH_TOKEN_STORE"])
    path.chmod(0o644)
    status = cli(env, "auth", "status")
    assert status.returncode == 0, status.stderr
    assert "made it private (600)" in status.stderr and "Traceback" not in status.stderr
    assert _mode(path) == 0o600


def test_lock_and_temporary_files_are_private_under_a_permissive_umask(tmp_path: Path) -> None:
    env = environment("http://127.0.0.1:9", tmp_path)
    path = Path(env["OUTREACH_TOKEN_STORE"])
    store = FileTokenStore(path)
    grant = stored_grant(env, expired=False)
    seen_modes: list[int] = []
    real_replace = os.replace

    def watching_replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        seen_modes.append(stat.S_IMODE(os.stat(source).st_mode))
        real_replace(source, target)

    previous = os.umask(0o000)
    try:
        os.replace = watching_replace  # type: ignore[assignment]
        with store.lock():
            store.save(grant)
    finally:
        os.replace = real_replace
        os.umask(previous)
    assert seen_modes == [0o600]
    assert _mode(Path(str(path) + ".lock")) == 0o600
    assert _mode(path) == 0o600


def test_an_existing_lock_file_open_to_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "grant.json"
    lock = Path(str(path) + ".lock")
    lock.touch()
    lock.chmod(0o666)
    with FileTokenStore(path).lock():
        pass
    assert _mode(lock) == 0o600


def test_a_fifo_in_place_of_the_store_does_not_hang(tmp_path: Path) -> None:
    path = tmp_path / "grant.json"
    os.mkfifo(path)
    outcome: list[BaseException] = []

    def load() -> None:
        try:
            FileTokenStore(path).load()
        except TokenStoreError as error:
            outcome.append(error)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "loading a FIFO blocked"
    assert outcome and "is not a file" in str(outcome[0])
