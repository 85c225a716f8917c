"""What only the PostgreSQL token store has: the row lock's transaction, bounded waits, a
password that never shows, and tokens that never reach the cluster's files in clear."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from outreach_pipeline.auth.errors import TokenStoreError
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.postgres_store import PostgresTokenStore
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.postgres_url import PostgresUrl
from outreach_pipeline.redaction import redact
from outreach_pipeline.settings import Secret, SettingsError, settings_from
from tests.support.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[2]


def grant(token: str) -> Grant:
    return Grant(
        access_token=Secret(f"access-{token}"),
        access_expires_at=2_000_000_000.0,
        refresh_token=Secret(f"refresh-{token}"),
        scopes=("users.read",),
        credential_kind="production",
        granted_at=1_900_000_000.0,
    )


def seen_by_others(url: str) -> str | None:
    """The default grant's document as another connection sees it."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT document FROM outreach_grants WHERE grant_name = 'default'"
        ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def test_a_save_under_the_lock_commits_with_the_lock_even_when_the_body_raises(
    postgres_url: str,
) -> None:
    store = PostgresTokenStore(PostgresUrl(postgres_url))
    with store.lock():
        store.save(grant("rotated-token-1"))
        assert store.load() == grant("rotated-token-1")  # the lock's own transaction
        assert seen_by_others(postgres_url) is None  # not committed yet
    assert "rotated-token-1" in (seen_by_others(postgres_url) or "")
    with pytest.raises(RuntimeError), store.lock():
        store.save(grant("rotated-token-2"))
        raise RuntimeError("the refresh failed after the new token was saved")
    assert store.load() == grant("rotated-token-2")


def test_a_second_worker_waits_for_the_lock_then_gives_up_naming_the_limit(
    postgres_url: str,
) -> None:
    holder = PostgresTokenStore(PostgresUrl(postgres_url))
    waiter = PostgresTokenStore(PostgresUrl(postgres_url), lock_timeout=1)
    with holder.lock(), pytest.raises(TokenStoreError) as raised, waiter.lock():
        pytest.fail("two holders at once")
    message = str(raised.value)
    assert "waited 1 s (lock_timeout)" in message and "grant default" in message
    with waiter.lock():  # released by the holder: taken at once
        pass


def test_a_killed_holder_frees_the_lock(postgres_url: str) -> None:
    """A worker killed mid-refresh (its connection gone) does not keep the others waiting."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from outreach_pipeline.auth.postgres_store import PostgresTokenStore\n"
            "from outreach_pipeline.postgres_url import PostgresUrl\n"
            "with PostgresTokenStore(PostgresUrl(sys.argv[1])).lock():\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(600)\n",
            postgres_url,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    waiter = PostgresTokenStore(PostgresUrl(postgres_url), lock_timeout=1)
    with pytest.raises(TokenStoreError, match="lock_timeout"), waiter.lock():
        pass
    holder.kill()
    holder.wait()
    waiter = PostgresTokenStore(PostgresUrl(postgres_url), lock_timeout=10)
    with waiter.lock():
        pass


def test_the_password_never_shows(postgres: PostgresServer) -> None:
    url = postgres.url()
    settings = settings_from({"OUTREACH_TOKEN_STORE": url})
    store = open_token_store(settings)
    shown = " ".join(
        (repr(settings), str(settings.grant_token_store_path), repr(store), redact(url))
    )
    assert postgres.password not in shown and "127.0.0.1" in shown

    wrong = url.replace(postgres.password, "wrong-password-123456")
    with pytest.raises(TokenStoreError) as refused:
        open_token_store(settings_from({"OUTREACH_TOKEN_STORE": wrong})).load()
    message = str(refused.value)
    assert "wrong-password-123456" not in message and "\n" not in message
    assert "127.0.0.1" in message and "'postgres'" in message

    closed = f"postgresql://u:secret-password-1@127.0.0.1:{postgres.port + 1}/tokens"
    with pytest.raises(TokenStoreError) as unreachable:
        open_token_store(settings_from({"OUTREACH_TOKEN_STORE": closed})).load()
    message = str(unreachable.value)
    assert "secret-password-1" not in message and "\n" not in message
    assert f"127.0.0.1:{postgres.port + 1}, database 'tokens'" in message

    with pytest.raises(SettingsError) as bad:
        settings_from({"OUTREACH_TOKEN_STORE": "postgresql://u:secret-password-2@host/"})
    assert str(bad.value).startswith("OUTREACH_TOKEN_STORE: ")
    assert "secret-password-2" not in str(bad.value) and "no database name" in str(bad.value)


def data_files_hold(server: PostgresServer, text: str) -> bool:
    """Whether ``text`` is in any file of the cluster (tables, WAL), after a checkpoint."""
    with psycopg.connect(server.url(), autocommit=True) as connection:
        connection.execute("CHECKPOINT")
    needle = text.encode()
    return any(needle in path.read_bytes() for path in server.data_dir.rglob("*") if path.is_file())


def test_tokens_are_encrypted_in_the_clusters_files(postgres: PostgresServer) -> None:
    """With a key, neither the row nor any file of the cluster holds a token; without one,
    the same search finds it (the search can see what it looks for)."""
    encrypted_db = postgres.create_database("encrypted_tokens")
    plain_db = postgres.create_database("plain_tokens")
    keyed = {"OUTREACH_TOKEN_STORE": encrypted_db, "OUTREACH_TOKEN_ENCRYPTION_KEY": "passphrase1"}
    open_token_store(settings_from(keyed)).save(grant("kept-secret-4f1e"))
    open_token_store(settings_from({"OUTREACH_TOKEN_STORE": plain_db})).save(grant("plain-9c2a"))

    assert "kept-secret-4f1e" not in (seen_by_others(encrypted_db) or "missing")
    assert open_token_store(settings_from(keyed)).load() == grant("kept-secret-4f1e")
    assert not data_files_hold(postgres, "refresh-kept-secret-4f1e")
    assert data_files_hold(postgres, "refresh-plain-9c2a")


def test_threads_of_one_process_take_turns(postgres_url: str) -> None:
    store = PostgresTokenStore(PostgresUrl(postgres_url))
    inside: list[int] = []
    overlaps: list[int] = []

    def hold(n: int) -> None:
        with store.lock():
            inside.append(n)
            if len(inside) > 1:
                overlaps.append(n)
            store.save(grant(f"thread-{n}-value"))
            inside.remove(n)

    threads = [threading.Thread(target=hold, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [] and store.load() is not None
