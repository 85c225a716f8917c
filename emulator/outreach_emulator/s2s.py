"""Server-to-server tokens: an app JWT (RS256, ``iss`` = the app's S2S GUID, at most an hour
long) exchanged at ``/api/app/installs/{install_id}/actions/accessToken`` for an access token
that acts as the app, reaching only the streams the catalog marks ``s2s``."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from outreach_emulator.clock import Clock, iso_ms
from outreach_emulator.config import EmulatorConfig
from outreach_emulator.grants import Grants
from outreach_emulator.messages import JSONAPI, Request, Response, api_error, json_response
from outreach_pipeline.catalog import catalog

MAX_LIFETIME = 3600
CLOCK_SKEW = 60


class InvalidAppToken(Exception):
    pass


def app_scopes() -> frozenset[str]:
    return frozenset(s.scope for s in catalog().values() if s.s2s)


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class S2SEndpoint:
    def __init__(self, config: EmulatorConfig, grants: Grants, clock: Clock) -> None:
        self.config = config
        self.grants = grants
        self.clock = clock
        self._key: rsa.RSAPublicKey | None = None
        if config.s2s_public_key_pem:
            key = serialization.load_pem_public_key(config.s2s_public_key_pem.encode())
            if not isinstance(key, rsa.RSAPublicKey):
                raise ValueError("the S2S public key must be an RSA key")
            self._key = key

    def access_token(self, request: Request, install_id: str) -> Response:
        if self._key is None or install_id != self.config.s2s_install_id:
            return api_error(404, "resourceNotFound", "Resource Not Found", "No such install.")
        try:
            self._verify(request.bearer() or "")
        except InvalidAppToken as why:
            return api_error(401, "unauthorizedRequest", "Unauthorized Request", str(why))
        token, expires_at = self.grants.issue_app_token(install_id, app_scopes())
        body = {
            "data": {
                "type": "accessToken",
                "meta": {"accessToken": token, "expiresAt": iso_ms(int(expires_at * 1000))},
            }
        }
        return json_response(200, body, JSONAPI)

    def _verify(self, jwt: str) -> dict[str, Any]:
        assert self._key is not None
        parts = jwt.split(".")
        if len(parts) != 3:
            raise InvalidAppToken("The app token is not a JWT.")
        try:
            header = orjson.loads(_b64(parts[0]))
            claims = orjson.loads(_b64(parts[1]))
            signature = _b64(parts[2])
        except (ValueError, binascii.Error) as error:
            raise InvalidAppToken("The app token is malformed.") from error
        if header.get("alg") != "RS256":
            raise InvalidAppToken("The app token must be signed with RS256.")
        try:
            self._key.verify(
                signature,
                f"{parts[0]}.{parts[1]}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature as error:
            raise InvalidAppToken("The app token signature does not verify.") from error
        now = self.clock.now()
        iat, exp = claims.get("iat"), claims.get("exp")
        if claims.get("iss") != self.config.s2s_guid:
            raise InvalidAppToken("The app token issuer is not this app's S2S GUID.")
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            raise InvalidAppToken("The app token needs numeric iat and exp claims.")
        if exp - iat > MAX_LIFETIME or iat > now + CLOCK_SKEW:
            raise InvalidAppToken("The app token lifetime is invalid.")
        if exp <= now:
            raise InvalidAppToken("The app token has expired.")
        return dict(claims)
