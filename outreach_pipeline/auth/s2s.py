"""Server-to-server tokens: an RS256 app JWT (``iss`` = the S2S GUID, an hour long) exchanged at
``{app_url}/installs/{install_id}/actions/accessToken`` for an access token that acts as the app
in one org for an hour. The token is cached in memory and renewed ahead of expiry; S2S tokens are
not single-use, so processes need not coordinate.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from outreach_pipeline.auth.errors import AuthError, S2STokenRefused
from outreach_pipeline.auth.retry import send_with_retries, transient_answer
from outreach_pipeline.auth.tokens import Renewal
from outreach_pipeline.catalog import Stream
from outreach_pipeline.retry import RetryPolicy
from outreach_pipeline.settings import S2SSettings, Secret, Settings
from outreach_pipeline.transport import request_within

APP_TOKEN_LIFETIME = 3600
DEFAULT_RENEW_MARGIN = 300.0


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    """The app's RSA private key; errors name the file, never its content."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        raise AuthError(f"cannot read an unencrypted PEM private key from {path}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise AuthError(f"the S2S private key in {path} is not an RSA key")
    return key


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def app_jwt(key: rsa.RSAPrivateKey, guid: str, now: float) -> Secret:
    """The RS256 app token Outreach exchanges for an S2S access token."""
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    iat = int(now)
    claims = _b64url(
        json.dumps({"iss": guid, "iat": iat, "exp": iat + APP_TOKEN_LIFETIME}).encode()
    )
    signing_input = f"{header}.{claims}".encode()
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return Secret(f"{header}.{claims}.{_b64url(signature)}")


class S2STokens:
    """A :class:`TokenSource` of S2S access tokens for one install."""

    def __init__(
        self,
        s2s: S2SSettings,
        app_url: str,
        margin: float = DEFAULT_RENEW_MARGIN,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.s2s = s2s
        self.exchange_url = f"{app_url.rstrip('/')}/installs/{s2s.install_id}/actions/accessToken"
        self.margin = margin
        self.clock = clock
        self.retry = retry
        self._key = load_private_key(s2s.private_key_path)
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._expires_at = 0.0
        self.exchanges = 0

    def __repr__(self) -> str:
        return f"S2STokens(install {self.s2s.install_id})"

    def current(self) -> Secret:
        with self._lock:
            if self._token is None or self.clock() >= self._expires_at - self.margin:
                self._exchange()
            assert self._token is not None
            return self._token

    def renew(self, rejected: Secret, force: bool) -> Renewal:
        with self._lock:
            if force or self._token is None or self._token == rejected:
                self._exchange()
                fresh = True
            else:
                fresh = False
            assert self._token is not None
            return Renewal(self._token, fresh)

    def refused_after_renewal(self) -> NoReturn:
        raise S2STokenRefused("the API refused a fresh S2S access token (HTTP 401)")

    def _exchange(self) -> None:
        def attempt(timeout: httpx.Timeout) -> tuple[Secret, float]:
            started = self.clock()
            # Stamped with the wall clock whatever ``clock`` says: the server checks iat/exp.
            bearer = app_jwt(self._key, self.s2s.guid, time.time())
            response = request_within(
                timeout.read,
                "POST",
                self.exchange_url,
                timeout=timeout,
                headers={"Authorization": f"Bearer {bearer.reveal()}"},
            )
            transient = transient_answer(response)
            if transient is not None:
                raise transient
            if response.status_code != 200:
                raise S2STokenRefused(
                    f"the S2S token exchange was refused (HTTP {response.status_code}); check "
                    "OUTREACH_S2S_GUID, OUTREACH_S2S_INSTALL_ID and the private key"
                )
            try:
                token = response.json()["data"]["meta"]["accessToken"]
            except (ValueError, KeyError, TypeError):
                raise S2STokenRefused("the S2S token exchange answered without a token") from None
            return Secret(str(token)), started + APP_TOKEN_LIFETIME

        self._token, self._expires_at = send_with_retries(
            "the S2S token exchange", attempt, self.retry
        )
        self.exchanges += 1


def unreachable_streams(settings: Settings, streams: list[Stream]) -> dict[str, str]:
    """Streams the configured authentication cannot read, by path, with the reason.

    Empty for OAuth grants. S2S tokens act as the app and reach only streams the catalog marks
    ``s2s`` (from the marks in Outreach's published API definition)."""
    if settings.s2s is None:
        return {}
    return {
        s.path: f"{s.path} is not reachable with S2S (app) tokens; it needs a user's OAuth grant"
        for s in streams
        if not s.s2s
    }
