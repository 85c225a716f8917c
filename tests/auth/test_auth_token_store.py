"""The token store: round trip, mode 0600, atomic replacement, encryption at rest."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest

from outreach_pipeline.auth.encryption import StoreCipher
from outreach_pipeline.auth.errors import TokenStoreError
from outreach_pipeline.auth.grant import Grant, TokenResponse
from outreach_pipeline.auth.token_store import FileTokenStore, open_token_store, stored_grant_names
from outreach_pipeline.settings import Secret, Settings

GRANT = Grant(
    access_token=Secret("access-token-value-1"),
    access_expires_at=2_000_000_000.0,
    refresh_token=Secret("refresh-token-value-1"),
    scopes=("prospects.read", "users.read"),
    credential_kind="development",
    granted_at=1_900_000_000.0,
    user_id=7,
    user_email="owner@example.com",
)


def test_round_trip_keeps_every_field_and_the_file_is_private(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "data" / "grant.json")
    assert store.load() is None
    marked = GRANT.needing_reauthorization("refused", 1_950_000_000.0)
    store.save(marked)
    assert store.load() == marked
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [p.name for p in store.path.parent.iterdir()] == ["grant.json"]
    assert store.delete() is True
    assert store.delete() is False


def test_marking_keeps_the_first_reason(tmp_path: Path) -> None:
    first = GRANT.needing_reauthorization("first", 1.0)
    assert first.needing_reauthorization("second", 2.0).reauthorization == first.reauthorization


def test_concurrent_saves_leave_a_whole_grant(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "grant.json")

    def save_many(n: int) -> None:
        for i in range(50):
            store.save(Grant(**{**vars(GRANT), "user_id": n * 1000 + i}))

    threads = [threading.Thread(target=save_many, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    loaded = store.load()
    assert loaded is not None and loaded.user_id is not None and loaded.user_id % 1000 == 49
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_encrypted_at_rest(tmp_path: Path) -> None:
    path = tmp_path / "grant.json"
    FileTokenStore(path, StoreCipher(Secret("a passphrase"))).save(GRANT)
    content = path.read_text()
    assert "access-token-value-1" not in content and "refresh-token-value-1" not in content
    assert "encrypted" in json.loads(content)
    assert FileTokenStore(path, StoreCipher(Secret("a passphrase"))).load() == GRANT
    with pytest.raises(TokenStoreError, match="does not decrypt"):
        FileTokenStore(path, StoreCipher(Secret("another passphrase"))).load()
    with pytest.raises(TokenStoreError, match="OUTREACH_TOKEN_ENCRYPTION_KEY"):
        FileTokenStore(path).load()


def test_a_plaintext_store_is_encrypted_on_the_next_save(tmp_path: Path) -> None:
    path = tmp_path / "grant.json"
    FileTokenStore(path).save(GRANT)
    encrypting = FileTokenStore(path, StoreCipher(Secret("key")))
    loaded = encrypting.load()
    assert loaded == GRANT
    encrypting.save(loaded)
    assert "refresh-token-value-1" not in path.read_text()


def test_a_corrupt_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "grant.json"
    path.write_text("{not json")
    with pytest.raises(TokenStoreError, match="not a readable grant"):
        FileTokenStore(path).load()


def test_reprs_hide_tokens(tmp_path: Path) -> None:
    shown = repr(GRANT) + repr(FileTokenStore(tmp_path / "g.json", StoreCipher(Secret("k"))))
    assert "token-value" not in shown and "'k'" not in shown


def test_stored_grant_names_lists_default_first_then_named_grants(tmp_path: Path) -> None:
    settings = Settings(token_store_path=tmp_path / "grant.json")
    assert stored_grant_names(settings) == []
    for name in ("zeta", "acme", "default"):
        store = open_token_store(settings.for_grant(name))
        answer = TokenResponse(Secret("a"), Secret("r"), 7200.0, ("s",))
        store.save(Grant.from_token_response(answer, "production", now=0.0))
    (tmp_path / "grants" / "Not-A-Name").mkdir()
    (tmp_path / "grants" / "empty").mkdir()
    assert stored_grant_names(settings) == ["default", "acme", "zeta"]
