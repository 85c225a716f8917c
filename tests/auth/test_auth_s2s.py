"""S2S tokens against the emulator: app JWT exchange, caching, renewal, unreachable streams."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from outreach_emulator import Emulator
from outreach_pipeline.auth import build_auth, unreachable_streams
from outreach_pipeline.auth.errors import S2STokenRefused
from outreach_pipeline.auth.httpx_auth import BearerTokenAuth
from outreach_pipeline.auth.s2s import S2STokens
from outreach_pipeline.catalog import catalog
from outreach_pipeline.settings import Settings
from tests.auth.auth_support import settings_from

GUID = "s2s-guid-1234"
INSTALL_ID = "install-42"


@pytest.fixture(scope="module")
def key_pair() -> tuple[bytes, str]:
    """(private key PEM, public key PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


@pytest.fixture
def s2s_emulator(make_emulator: Callable[..., Emulator], key_pair: tuple[bytes, str]) -> Emulator:
    return make_emulator(s2s_guid=GUID, s2s_public_key_pem=key_pair[1], s2s_install_id=INSTALL_ID)


def s2s_settings(
    emulator: Emulator, tmp_path: Path, private_pem: bytes, guid: str = GUID
) -> Settings:
    key_path = tmp_path / "s2s-key.pem"
    key_path.write_bytes(private_pem)
    return settings_from(
        {
            "OUTREACH_API_URL": emulator.api_url,
            "OUTREACH_S2S_GUID": guid,
            "OUTREACH_S2S_INSTALL_ID": INSTALL_ID,
            "OUTREACH_S2S_PRIVATE_KEY_PATH": str(key_path),
        }
    )


def test_build_auth_uses_s2s_and_caches_the_token(
    s2s_emulator: Emulator, tmp_path: Path, key_pair: tuple[bytes, str]
) -> None:
    settings = s2s_settings(s2s_emulator, tmp_path, key_pair[0])
    auth = build_auth(settings)
    with httpx.Client(auth=auth) as client:
        for _ in range(5):
            assert client.get(f"{settings.api_url}/prospects").status_code == 200
    assert s2s_emulator.grants.summary()["app_tokens"] == 1


def test_the_token_is_renewed_before_it_expires(
    s2s_emulator: Emulator, tmp_path: Path, key_pair: tuple[bytes, str]
) -> None:
    settings = s2s_settings(s2s_emulator, tmp_path, key_pair[0])
    assert settings.s2s is not None
    offset = 0.0
    tokens = S2STokens(settings.s2s, settings.app_url, clock=lambda: time.time() + offset)
    with httpx.Client(auth=BearerTokenAuth(tokens)) as client:
        assert client.get(f"{settings.api_url}/accounts").status_code == 200
        offset = 3600 - 200  # inside the 300 s margin
        assert client.get(f"{settings.api_url}/accounts").status_code == 200
    assert tokens.exchanges == 2 and s2s_emulator.stats["statuses"].get("401", 0) == 0


class RefusingFirst(httpx.BaseTransport):
    """Answers the first API request 401 (as for a revoked token), then really sends."""

    def __init__(self) -> None:
        self.real = httpx.HTTPTransport()
        self.refused = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.refused:
            self.refused = True
            return httpx.Response(401, json={"error": "Invalid JWT token."})
        return self.real.handle_request(request)


def test_a_401_renews_the_token(
    s2s_emulator: Emulator, tmp_path: Path, key_pair: tuple[bytes, str]
) -> None:
    settings = s2s_settings(s2s_emulator, tmp_path, key_pair[0])
    with httpx.Client(auth=build_auth(settings), transport=RefusingFirst()) as client:
        assert client.get(f"{settings.api_url}/accounts").status_code == 200
    assert s2s_emulator.grants.summary()["app_tokens"] == 2


def test_a_refused_app_token_is_a_clear_error(
    s2s_emulator: Emulator, tmp_path: Path, key_pair: tuple[bytes, str]
) -> None:
    settings = s2s_settings(s2s_emulator, tmp_path, key_pair[0], guid="not-the-guid")
    with (
        httpx.Client(auth=build_auth(settings)) as client,
        pytest.raises(S2STokenRefused, match="OUTREACH_S2S_GUID"),
    ):
        client.get(f"{settings.api_url}/accounts")


def test_streams_s2s_cannot_reach_are_named_with_a_reason(
    s2s_emulator: Emulator, tmp_path: Path, key_pair: tuple[bytes, str], settings: Settings
) -> None:
    streams = list(catalog().values())
    skipped = unreachable_streams(s2s_settings(s2s_emulator, tmp_path, key_pair[0]), streams)
    assert set(skipped) == {s.path for s in streams if not s.s2s} and "sequenceSteps" in skipped
    assert "S2S" in skipped["sequenceSteps"]
    assert unreachable_streams(settings, streams) == {}
