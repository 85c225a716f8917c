"""The throwaway cluster itself: gone after use even when the body fails; missing binaries
skip locally and fail under CI."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.support import postgres as support


def test_the_cluster_is_removed_even_when_the_body_fails() -> None:
    support.need_postgres()
    with pytest.raises(RuntimeError, match="the body failed"), support.postgres_server() as server:
        folder = server.data_dir.parent
        with psycopg.connect(server.url(), connect_timeout=5) as connection:
            assert connection.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        raise RuntimeError("the body failed")
    assert not folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url(), connect_timeout=2)


def test_missing_binaries_skip_locally_and_fail_under_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(support, "BIN", tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the PostgreSQL tests"):
        support.need_postgres()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y postgresql"):
        support.need_postgres()
