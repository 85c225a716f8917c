"""OAuth state: authorization codes, grants, access and refresh tokens, and their expiry.

Rules follow what Outreach documents: access tokens live ``access_token_ttl`` seconds; every
refresh returns a new refresh token; a refresh token dies 14 days after issue or once 100
newer ones exist for the same user and app; grants made with development credentials expire
7 days after they are made; minting tokens more than once a minute per user answers 429
(``token_mint_interval``). Whether a spent refresh token stays valid is not documented:
``refresh_mode`` chooses (single-use by default); nor whether the access token issued with it
survives the refresh: ``old_access_tokens`` chooses (revoked by default, as Doorkeeper does).
All times come from the emulator's clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import math
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from outreach_emulator.clock import Clock
from outreach_emulator.config import EmulatorConfig
from outreach_pipeline.catalog import catalog

GrantKind = Literal["production", "development"]

CODE_TTL = 600
REFRESH_TTL = 14 * 24 * 3600
NEWER_REFRESH_LIMIT = 100
DEVELOPMENT_GRANT_TTL = 7 * 24 * 3600
APP_TOKEN_TTL = 3600
SCOPE_ACTIONS = ("read", "write", "delete", "all")
# Resources outside the stream catalog that Outreach still grants scopes for.
EXTRA_SCOPE_RESOURCES = ("schedules",)


def known_scope(scope: str) -> bool:
    resource, _, action = scope.rpartition(".")
    known = resource in catalog() or resource in EXTRA_SCOPE_RESOURCES
    return known and action in SCOPE_ACTIONS


class OAuthError(Exception):
    """A token-endpoint refusal: ``invalid_grant`` (400), ``invalid_client`` (401), ..."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class MintLimited(Exception):
    """A token asked for sooner than ``token_mint_interval`` after the user's last one."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass
class Grant:
    id: int
    client_id: str
    user_id: int
    scopes: tuple[str, ...]
    kind: GrantKind
    created_at: float
    dead: bool = False  # revoked, or a development grant forced to expire


@dataclass
class RefreshToken:
    grant: Grant
    issued_at: float
    serial: int
    access_token: str  # issued with it; revoked when it is spent, if so configured
    spent: bool = False


@dataclass
class AccessToken:
    scopes: frozenset[str]
    expires_at: float
    rate_key: str  # whose hourly request budget this token spends
    grant: Grant | None = None  # None for S2S app tokens
    revoked: bool = False


@dataclass
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    user_id: int
    issued_at: float
    used: bool = False


@dataclass
class Counters:
    codes: int = 0
    code_exchanges: int = 0
    refreshes: int = 0
    refused: int = 0
    app_tokens: int = 0
    mint_limited: int = 0
    access_revoked: int = 0


@dataclass
class Grants:
    """Every grant and token one emulated Outreach org has handed out."""

    config: EmulatorConfig
    clock: Clock
    authorizing_user_id: int = 1
    counters: Counters = field(default_factory=Counters)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._codes: dict[str, AuthorizationCode] = {}
        self._grants: list[Grant] = []
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._serials: dict[tuple[int, str], int] = {}
        self._last_mint: dict[int, float] = {}  # user id -> when a token was last minted
        self._signing_key = secrets.token_bytes(32)

    # -- clients ---------------------------------------------------------------------------

    def client_kind(self, client_id: str) -> GrantKind | None:
        if client_id == self.config.client_id:
            return "production"
        if self.config.dev_client_id is not None and client_id == self.config.dev_client_id:
            return "development"
        return None

    def authenticate_client(self, client_id: str, client_secret: str) -> GrantKind:
        kind = self.client_kind(client_id)
        expected = (
            self.config.client_secret if kind == "production" else self.config.dev_client_secret
        )
        if (
            kind is None
            or expected is None
            or not secrets.compare_digest(client_secret.encode(), expected.encode())
        ):
            self.counters.refused += 1
            raise OAuthError(401, "invalid_client", "Client authentication failed.")
        return kind

    # -- issuing ---------------------------------------------------------------------------

    def new_code(
        self, client_id: str, redirect_uri: str, scopes: tuple[str, ...], user_id: int
    ) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = AuthorizationCode(
                client_id, redirect_uri, scopes, user_id, self.clock.now()
            )
            self.counters.codes += 1
        return code

    def exchange_code(
        self, client_id: str, client_secret: str, code: str, redirect_uri: str
    ) -> dict[str, Any]:
        kind = self.authenticate_client(client_id, client_secret)
        with self._lock:
            found = self._codes.get(code)
            if found is None or found.used or found.client_id != client_id:
                raise self._refuse("The authorization code is invalid or was already used.")
            if self.clock.now() > found.issued_at + CODE_TTL:
                raise self._refuse("The authorization code has expired.")
            if redirect_uri != found.redirect_uri:
                raise self._refuse("The redirect_uri does not match the authorization request.")
            self._check_mint(found.user_id)
            found.used = True
            grant = self._new_grant(client_id, found.user_id, found.scopes, kind)
            self.counters.code_exchanges += 1
            return self._tokens(grant, minted=True)

    def refresh(self, client_id: str, client_secret: str, refresh_token: str) -> dict[str, Any]:
        self.authenticate_client(client_id, client_secret)
        with self._lock:
            found = self._refresh.get(refresh_token)
            if found is None or found.grant.client_id != client_id:
                raise self._refuse("The refresh token is invalid.")
            if not self._grant_alive(found.grant):
                raise self._refuse("The grant was revoked or has expired.")
            if found.spent and self.config.refresh_mode == "single_use":
                raise self._refuse("The refresh token was already used.")
            if self.clock.now() > found.issued_at + REFRESH_TTL:
                raise self._refuse("The refresh token has expired.")
            newest = self._serials[(found.grant.user_id, client_id)]
            if newest - found.serial >= NEWER_REFRESH_LIMIT:
                raise self._refuse("The refresh token was superseded by newer ones.")
            self._check_mint(found.grant.user_id)
            found.spent = True
            if self.config.old_access_tokens == "revoke":
                self._revoke_access(found.access_token)
            self.counters.refreshes += 1
            return self._tokens(found.grant, minted=True)

    def issue(
        self, scopes: list[str] | tuple[str, ...], user_id: int = 1, kind: GrantKind = "production"
    ) -> dict[str, Any]:
        """A grant made without the browser flow: the token response a code exchange gives.

        Not a mint through the token endpoint: it spends none of the user's minting allowance
        (as if the grant had been made long ago), so a test can refresh right after.
        """
        client_id = self.config.client_id if kind == "production" else self.config.dev_client_id
        if client_id is None:
            raise ValueError("development credentials are not configured")
        unknown = [s for s in scopes if not known_scope(s)]
        if unknown:
            raise ValueError(f"unknown scopes {unknown}")
        with self._lock:
            return self._tokens(self._new_grant(client_id, user_id, tuple(scopes), kind))

    def issue_app_token(self, install_id: str, scopes: frozenset[str]) -> tuple[str, float]:
        """An S2S access token acting as the app in one install; (token, expires_at)."""
        token = secrets.token_urlsafe(48)
        expires_at = self.clock.now() + APP_TOKEN_TTL
        with self._lock:
            self._access[token] = AccessToken(scopes, expires_at, f"app:{install_id}")
            self.counters.app_tokens += 1
        return token, expires_at

    def _new_grant(
        self, client_id: str, user_id: int, scopes: tuple[str, ...], kind: GrantKind
    ) -> Grant:
        grant = Grant(next(self._ids), client_id, user_id, scopes, kind, self.clock.now())
        self._grants.append(grant)
        return grant

    def _check_mint(self, user_id: int) -> None:
        """Refuse a mint sooner than ``token_mint_interval`` after the user's last one."""
        interval = self.config.token_mint_interval
        last = self._last_mint.get(user_id)
        now = self.clock.now()
        if interval > 0 and last is not None and last <= now < last + interval:
            self.counters.mint_limited += 1
            raise MintLimited(max(1, math.ceil(last + interval - now)))

    def _revoke_access(self, token: str) -> None:
        found = self._access.get(token)
        if found is not None and not found.revoked:
            found.revoked = True
            self.counters.access_revoked += 1

    def _tokens(self, grant: Grant, minted: bool = False) -> dict[str, Any]:
        now = self.clock.now()
        if minted:
            self._last_mint[grant.user_id] = now
        access = self._signed_access_token(grant.user_id, now)
        refresh = secrets.token_urlsafe(48)
        key = (grant.user_id, grant.client_id)
        self._serials[key] = serial = self._serials.get(key, 0) + 1
        ttl = self.config.access_token_ttl
        self._access[access] = AccessToken(
            frozenset(grant.scopes), now + ttl, f"user:{grant.user_id}", grant
        )
        self._refresh[refresh] = RefreshToken(grant, now, serial, access)
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ttl,
            "refresh_token": refresh,
            "scope": " ".join(grant.scopes),
            "created_at": int(now),
        }

    def _signed_access_token(self, user_id: int, now: float) -> str:
        """A JWT naming the user (``sub``), like Outreach's ("Invalid JWT token." on a bad one).

        The claims beyond ``sub``/``iat``/``exp`` are a guess; clients may read ``sub`` to learn
        who authorized. Tokens are still checked by lookup, so the signature only makes the
        shape real.
        """
        claims = {
            "sub": str(user_id),
            "iat": int(now),
            "exp": int(now) + self.config.access_token_ttl,
            "jti": secrets.token_urlsafe(16),
        }
        signing_input = b".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode())
            for part in ({"alg": "HS256", "typ": "JWT"}, claims)
        )
        signature = hmac.new(self._signing_key, signing_input, hashlib.sha256).digest()
        return (signing_input + b"." + _b64url(signature)).decode()

    def _refuse(self, description: str) -> OAuthError:
        self.counters.refused += 1
        return OAuthError(400, "invalid_grant", description)

    # -- checking and ending ---------------------------------------------------------------

    def _grant_alive(self, grant: Grant) -> bool:
        if grant.dead:
            return False
        if grant.kind == "development":
            return self.clock.now() < grant.created_at + DEVELOPMENT_GRANT_TTL
        return True

    def access(self, token: str) -> AccessToken | None:
        """The live access token ``token`` names, or None (unknown, expired, revoked)."""
        found = self._access.get(token)
        if found is None or found.revoked or self.clock.now() >= found.expires_at:
            return None
        if found.grant is not None and not self._grant_alive(found.grant):
            return None
        return found

    def revoke_all(self) -> int:
        """Revoke every live grant (as a user disconnecting the app); returns how many."""
        with self._lock:
            live = [g for g in self._grants if not g.dead]
            for grant in live:
                grant.dead = True
            return len(live)

    def revoke(self, token: str) -> bool:
        """Revoke the grant behind an access or refresh token."""
        with self._lock:
            found = self._access.get(token) or self._refresh.get(token)
            if found is None or found.grant is None:
                return False
            found.grant.dead = True
            return True

    def expire_development(self) -> int:
        """Expire every development grant now (the weekly expiry, without waiting a week)."""
        with self._lock:
            live = [g for g in self._grants if g.kind == "development" and not g.dead]
            for grant in live:
                grant.dead = True
            return len(live)

    def handed_out(self) -> set[str]:
        """Every code, access token and refresh token issued so far, live or not, so that a
        test can search what the pipeline showed or stored for any of them."""
        with self._lock:
            return {*self._codes, *self._access, *self._refresh}

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "grants": len(self._grants),
                "live_grants": sum(1 for g in self._grants if self._grant_alive(g)),
                **vars(self.counters),
            }


def _b64url(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")
