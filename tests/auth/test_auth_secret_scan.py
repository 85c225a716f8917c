"""No secret in logs, printed output, exception messages, reprs or tracebacks.

One test drives the auth layer through its success and failure paths with DEBUG logging on,
collects everything a person or a log collector could see, and greps it for every secret the
run handled: client secrets, access and refresh tokens, the encryption passphrase, the private key.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from outreach_emulator import Emulator
from outreach_pipeline import cli
from outreach_pipeline.auth import build_auth
from outreach_pipeline.auth.build import oauth_client
from outreach_pipeline.auth.encryption import StoreCipher
from outreach_pipeline.auth.httpx_auth import BearerTokenAuth
from outreach_pipeline.auth.login import login
from outreach_pipeline.auth.token_manager import TokenManager
from outreach_pipeline.auth.token_store import FileTokenStore, open_token_store
from outreach_pipeline.retry import TOKEN_REQUESTS
from outreach_pipeline.settings import Secret, Settings
from tests.auth.auth_support import SCOPES, settings_from

PASSPHRASE = "passphrase-never-shown-8c1f"
WRONG_SECRET = "wrong-secret-never-shown-77ab"
QUICK = replace(TOKEN_REQUESTS, attempts=2, initial_wait=0.01, max_wait=0.02, attempt_timeout=5.0)
TIGHT = replace(TOKEN_REQUESTS, attempts=2, initial_wait=0.01, max_wait=0.02, attempt_timeout=0.1)


class Exposure:
    """Everything shown while the test runs, plus the secrets that must not be in it."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.secrets: set[str] = set()

    def error(self, action: Callable[[], object]) -> None:
        """Run ``action``, which must fail; keep its message, repr and full traceback."""
        with pytest.raises(Exception) as raised:
            action()
        error = raised.value
        self.texts += [str(error), repr(error), "".join(traceback.format_exception(error))]

    def grant_tokens(self, settings: Settings) -> None:
        grant = open_token_store(settings).load()
        if grant is not None:
            self.secrets |= {grant.access_token.reveal(), grant.refresh_token.reveal()}
            self.texts.append(repr(grant))


def browser(url: str) -> None:
    threading.Thread(target=httpx.get, args=(url,), kwargs={"follow_redirects": True}).start()


def test_no_secret_is_ever_shown(
    oauth_emulator: Emulator,
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.chdir(tmp_path)  # no stray .env
    env = {**env, "OUTREACH_TOKEN_ENCRYPTION_KEY": PASSPHRASE}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = settings_from(env)
    seen = Exposure()
    seen.secrets |= {PASSPHRASE, WRONG_SECRET, oauth_emulator.config.client_secret}
    seen.secrets.add(oauth_emulator.config.dev_client_secret or "")

    grant = login(settings, "development", SCOPES, print, browser, io.StringIO(), timeout=10)
    seen.grant_tokens(settings)
    seen.texts += [repr(settings), repr(grant), repr(open_token_store(settings))]
    assert cli.main(["auth", "status"]) == 0

    offset = 0.0
    manager = TokenManager(
        open_token_store(settings),
        lambda kind: oauth_client(settings, kind, QUICK),
        clock=lambda: time.time() + offset,
    )
    auth = BearerTokenAuth(manager)
    seen.texts += [repr(manager), repr(auth), repr(oauth_client(settings, "development"))]
    with httpx.Client(auth=auth) as client:
        offset = 7200
        oauth_emulator.clock.advance(7200)  # the server sees the hours pass too
        assert client.get(f"{settings.api_url}/users").status_code == 200  # refreshed
        seen.grant_tokens(settings)
        oauth_emulator.faults.set(latency=0.3)
        stored = open_token_store(settings).load()
        assert stored is not None
        impatient = oauth_client(settings, "development", TIGHT)
        seen.error(lambda: impatient.refresh(stored.refresh_token))  # token endpoint timeout
        oauth_emulator.faults.reset()
        offset = 2 * 7200
        oauth_emulator.grants.revoke_all()
        seen.error(lambda: client.get(f"{settings.api_url}/users"))  # invalid_grant
    seen.grant_tokens(settings)
    assert cli.main(["auth", "status"]) == 1

    wrong = settings_from({**env, "OUTREACH_DEV_CLIENT_SECRET": WRONG_SECRET})
    seen.error(lambda: oauth_client(wrong, "development", QUICK).refresh(Secret("x")))
    unreachable = settings_from({**env, "OUTREACH_OAUTH_URL": "http://127.0.0.1:9/oauth"})
    seen.error(lambda: oauth_client(unreachable, None, QUICK).refresh(Secret("x")))
    encrypted = FileTokenStore(settings.token_store_path, StoreCipher(Secret("another key")))
    seen.error(encrypted.load)
    seen.error(lambda: login(settings, None, SCOPES, print, lambda u: None, io.StringIO(), 0.2))

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "key.pem").write_bytes(pem)
    seen.secrets |= {line for line in pem.decode().splitlines() if "-----" not in line}
    s2s_env = {
        **env,
        "OUTREACH_S2S_GUID": "unknown-guid",
        "OUTREACH_S2S_INSTALL_ID": "no-install",
        "OUTREACH_S2S_PRIVATE_KEY_PATH": str(tmp_path / "key.pem"),
    }
    s2s_auth = build_auth(settings_from(s2s_env), retry=QUICK)
    seen.texts.append(repr(s2s_auth))
    with httpx.Client(auth=s2s_auth) as client:
        seen.error(lambda: client.get(f"{settings.api_url}/accounts"))
    monkeypatch.setenv("OUTREACH_S2S_GUID", "unknown-guid")
    monkeypatch.setenv("OUTREACH_S2S_INSTALL_ID", "no-install")
    monkeypatch.setenv("OUTREACH_S2S_PRIVATE_KEY_PATH", str(tmp_path / "key.pem"))
    assert cli.main(["auth", "status"]) == 0

    captured = capsys.readouterr()
    seen.texts += [captured.out, captured.err, caplog.text]
    seen.texts += [record.getMessage() for record in caplog.records]
    shown = "\n".join(seen.texts)
    assert "refreshed the Outreach access token" in shown and "Needs reauthorization" in shown
    leaked = sum(1 for secret in seen.secrets if secret and secret in shown)
    assert len(seen.secrets) > 10
    assert leaked == 0, "secrets shown (not listed here, so a failure does not leak them)"
