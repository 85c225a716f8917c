"""The token stores, file and PostgreSQL alike: round trip, whole grants under concurrent saves,
encryption at rest, clear errors; the file's mode 0600 and atomic replacement."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import psycopg
import pytest

from outreach_pipeline.auth.errors import TokenStoreError
from outreach_pipeline.auth.grant import Grant, TokenResponse
from outreach_pipeline.auth.token_store import (
    FileTokenStore,
    TokenStore,
    open_token_store,
    stored_grant_names,
)
from outreach_pipeline.settings import Secret, grant_file, settings_from

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


def opened(location: Path | str, key: str | None = None, grant: str = "default") -> TokenStore:
    """The store at ``location`` (a file, or a PostgreSQL URL) for ``grant``, with ``key``."""
    variables = {"OUTREACH_TOKEN_STORE": str(location), "OUTREACH_GRANT": grant}
    if key is not None:
        variables["OUTREACH_TOKEN_ENCRYPTION_KEY"] = key
    return open_token_store(settings_from(variables))


def stored_text(location: Path | str, grant: str = "default") -> str:
    """What the store keeps for the default grant: the file's text, or the row's document."""
    if isinstance(location, Path):
        return location.read_text()
    with psycopg.connect(location) as connection:
        row = connection.execute(
            "SELECT document FROM outreach_grants WHERE grant_name = %s", (grant,)
        ).fetchone()
    assert row is not None
    return str(row[0])


def overwrite(location: Path | str, text: str, grant: str = "default") -> None:
    """Put ``text`` where ``grant``'s stored document is."""
    if isinstance(location, Path):
        grant_file(location, grant).write_text(text)
        return
    with psycopg.connect(location) as connection:
        connection.execute(
            "UPDATE outreach_grants SET document = %s WHERE grant_name = %s", (text, grant)
        )


def test_round_trip_keeps_every_field(store_location: Path | str) -> None:
    store = opened(store_location)
    assert store.load() is None
    marked = GRANT.needing_reauthorization("refused", 1_950_000_000.0)
    store.save(marked)
    assert store.load() == marked
    assert opened(store_location).load() == marked
    assert store.delete() is True
    assert store.load() is None
    assert store.delete() is False


def test_the_file_is_private_and_alone(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "data" / "grant.json")
    store.save(GRANT)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [p.name for p in store.path.parent.iterdir()] == ["grant.json"]


def test_marking_keeps_the_first_reason() -> None:
    first = GRANT.needing_reauthorization("first", 1.0)
    assert first.needing_reauthorization("second", 2.0).reauthorization == first.reauthorization


def test_concurrent_saves_leave_a_whole_grant(store_location: Path | str) -> None:
    store = opened(store_location)

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
    if isinstance(store_location, Path):
        assert [p.name for p in store_location.parent.iterdir() if p.suffix == ".tmp"] == []


def test_encrypted_at_rest(store_location: Path | str) -> None:
    opened(store_location, "a passphrase").save(GRANT)
    content = stored_text(store_location)
    assert "access-token-value-1" not in content and "refresh-token-value-1" not in content
    assert "encrypted" in json.loads(content)
    assert opened(store_location, "a passphrase").load() == GRANT
    with pytest.raises(TokenStoreError, match="does not decrypt"):
        opened(store_location, "another passphrase").load()
    with pytest.raises(TokenStoreError, match="OUTREACH_TOKEN_ENCRYPTION_KEY"):
        opened(store_location).load()


def test_a_plaintext_store_is_encrypted_on_the_next_save(store_location: Path | str) -> None:
    opened(store_location).save(GRANT)
    encrypting = opened(store_location, "key")
    loaded = encrypting.load()
    assert loaded == GRANT
    encrypting.save(loaded)
    assert "refresh-token-value-1" not in stored_text(store_location)


def test_a_corrupt_store_is_a_clear_error(store_location: Path | str) -> None:
    opened(store_location).save(GRANT)
    overwrite(store_location, "{not json")
    with pytest.raises(TokenStoreError, match="not a readable grant") as raised:
        opened(store_location).load()
    assert "run `outreach-pipeline auth login` to store a new one" in str(raised.value)


def test_a_corrupt_named_grant_advises_logging_in_that_grant(store_location: Path | str) -> None:
    """A plain ``auth login`` would store the default grant and leave this one broken."""
    opened(store_location, grant="sales").save(GRANT)
    overwrite(store_location, "{not json", grant="sales")
    with pytest.raises(TokenStoreError, match="not a readable grant") as raised:
        opened(store_location, grant="sales").load()
    assert "`outreach-pipeline auth login --grant sales`" in str(raised.value)


def test_reprs_hide_tokens(store_location: Path | str) -> None:
    shown = repr(GRANT) + repr(opened(store_location, "k" * 12))
    assert "token-value" not in shown and "k" * 12 not in shown


def test_stored_grant_names_lists_default_first_then_named_grants(
    store_location: Path | str,
) -> None:
    settings = settings_from({"OUTREACH_TOKEN_STORE": str(store_location)})
    assert stored_grant_names(settings) == []
    for name in ("zeta", "acme", "default", "gone"):
        store = open_token_store(settings.for_grant(name))
        answer = TokenResponse(Secret("a"), Secret("r"), 7200.0, ("s",))
        store.save(Grant.from_token_response(answer, "production", now=0.0))
    opened(store_location, grant="gone").delete()
    if isinstance(store_location, Path):
        (store_location.parent / "grants" / "Not-A-Name").mkdir()
        (store_location.parent / "grants" / "empty").mkdir()
    assert stored_grant_names(settings) == ["default", "acme", "zeta"]
