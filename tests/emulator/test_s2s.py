"""S2S: an RS256 app JWT exchanged for an app token that reaches only the S2S streams."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from outreach_emulator import Emulator

GUID = "s2s-guid-1234"
INSTALL = "install-42"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def app_jwt(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def s2s_emulator(make_emulator, private_key: rsa.RSAPrivateKey) -> Emulator:
    public = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return make_emulator(s2s_guid=GUID, s2s_install_id=INSTALL, s2s_public_key_pem=public.decode())


def exchange(emulator: Emulator, jwt: str, install: str = INSTALL) -> httpx.Response:
    return httpx.post(
        f"{emulator.app_url}/installs/{install}/actions/accessToken",
        headers={"Authorization": f"Bearer {jwt}"},
    )


def valid_claims(emulator: Emulator) -> dict[str, Any]:
    now = int(emulator.clock.now())
    return {"iss": GUID, "iat": now, "exp": now + 3600}


def test_app_token_reads_s2s_streams_only(
    s2s_emulator: Emulator, private_key: rsa.RSAPrivateKey
) -> None:
    response = exchange(s2s_emulator, app_jwt(private_key, **valid_claims(s2s_emulator)))
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["type"] == "accessToken"
    token = data["meta"]["accessToken"]
    assert data["meta"]["expiresAt"].endswith("Z")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(s2s_emulator.api_url + "/prospects", headers=headers).status_code == 200
    refused = httpx.get(s2s_emulator.api_url + "/stages", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["id"] == "unauthorizedOauthScope"


def test_app_token_lasts_an_hour(s2s_emulator: Emulator, private_key: rsa.RSAPrivateKey) -> None:
    response = exchange(s2s_emulator, app_jwt(private_key, **valid_claims(s2s_emulator)))
    headers = {"Authorization": f"Bearer {response.json()['data']['meta']['accessToken']}"}
    s2s_emulator.clock.advance(3601)
    assert httpx.get(s2s_emulator.api_url + "/users", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "change",
    [{"iss": "someone-else"}, {"exp_offset": -10}, {"exp_offset": 7200}],
    ids=["wrong issuer", "expired", "lives too long"],
)
def test_bad_claims_are_refused(
    s2s_emulator: Emulator, private_key: rsa.RSAPrivateKey, change: dict[str, Any]
) -> None:
    claims = valid_claims(s2s_emulator)
    if "iss" in change:
        claims["iss"] = change["iss"]
    else:
        claims["exp"] = claims["iat"] + change["exp_offset"]
        if change["exp_offset"] < 0:
            claims["iat"] -= 100
    assert exchange(s2s_emulator, app_jwt(private_key, **claims)).status_code == 401


def test_other_key_is_refused(s2s_emulator: Emulator) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = exchange(s2s_emulator, app_jwt(stranger, **valid_claims(s2s_emulator)))
    assert response.status_code == 401
    assert response.json()["errors"][0]["id"] == "unauthorizedRequest"


def test_unknown_install_and_garbage(s2s_emulator: Emulator, private_key) -> None:
    jwt = app_jwt(private_key, **valid_claims(s2s_emulator))
    assert exchange(s2s_emulator, jwt, install="other").status_code == 404
    assert exchange(s2s_emulator, "not.a.jwt").status_code == 401


def test_without_s2s_configuration_the_endpoint_is_absent(
    emulator: Emulator, private_key: rsa.RSAPrivateKey
) -> None:
    assert exchange(emulator, app_jwt(private_key, **valid_claims(emulator))).status_code == 404
