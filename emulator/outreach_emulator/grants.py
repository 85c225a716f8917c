"""OAuth state: authorization codes, grants, access and refresh tokens, and their expiry.

Rules follow what Outreach documents: access tokens live ``access_token_ttl`` seconds; every
refresh returns a new refresh token; a refresh token dies 14 days after issue or once 100
newer ones exist for the same user and app; grants made with development credentials expire
7 days after they are made; minting tokens more than once a minute per user answers 429
(``token_mint_interval``). Whether a spent refresh token stays valid is not documented:
``refresh_mode`` chooses (single-use by default); nor whether the access token issued with it
survives the refresh: ``old_access_tokens`` chooses (revoked by default, as Doorkeeper does).
All times come from the emulator's clock.

Users of several orgs may authorize the one app: a user is (org, user id), since ids are per
org; every grant, code and token names its org, and the token-mint limit, the refresh-token
serials and the usage counts are kept per such user.
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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from outreach_emulator.clock import Clock
from outreach_emulator.config import DEFAULT_ORG, EmulatorConfig
from outreach_pipeline.catalog import catalog

GrantKind = Literal["production", "development"]
# (org name, user id): who authorized a grant. Outreach's limits are per user.
User = tuple[str, int]

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
    org: str
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
    rate_key: str  # whose hourly request budget (in the org's limiter) this token spends
    org: str  # whose data it reaches
    grant: Grant | None = None  # None for S2S app tokens
    revoked: bool = False


@dataclass
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    user: User
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
    """Every grant and token the emulated Outreach has handed out, to users of every org.

    ``is_user(org, user_id)`` says whether that user exists (default: the default org's users
    are any positive id). ``authorizing_org``/``authorizing_user_id`` are who the next consent
    without a ``login_hint`` is for.
    """

    config: EmulatorConfig
    clock: Clock
    authorizing_user_id: int = 1
    counters: Counters = field(default_factory=Counters)
    is_user: Callable[[str, int], bool] = lambda org, user_id: org == DEFAULT_ORG and user_id > 0
    authorizing_org: str = ""

    def __post_init__(self) -> None:
        self.default_org = self.config.org_specs[0].name
        self.authorizing_org = self.authorizing_org or self.default_org
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._codes: dict[str, AuthorizationCode] = {}
        self._grants: list[Grant] = []
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._serials: dict[tuple[User, str], int] = {}
        self._last_mint: dict[User, float] = {}  # when a token was last minted for the user
        self.mints: Counter[User] = Counter()  # tokens minted through the token endpoint
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

    def user(self, org: str | None = None, user_id: int | None = None) -> User:
        """The user ``org``/``user_id`` name (the default org; the authorizing user), checked."""
        if org is None and user_id is None:
            org, user_id = self.authorizing_org, self.authorizing_user_id
        chosen = (org or self.default_org, 1 if user_id is None else user_id)
        if not self.is_user(*chosen):
            raise ValueError(f"no user {chosen[1]} in org {chosen[0]!r}")
        return chosen

    def authorize_as(self, org: str | None, user_id: int) -> User:
        """Make the next consent without a ``login_hint`` be ``user_id``'s of ``org``."""
        self.authorizing_org, self.authorizing_user_id = self.user(org, user_id)
        return self.authorizing_org, self.authorizing_user_id

    def new_code(
        self, client_id: str, redirect_uri: str, scopes: tuple[str, ...], user: User
    ) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = AuthorizationCode(
                client_id, redirect_uri, scopes, user, self.clock.now()
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
            self._check_mint(found.user)
            found.used = True
            grant = self._new_grant(client_id, found.user, found.scopes, kind)
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
            newest = self._serials[(_user_of(found.grant), client_id)]
            if newest - found.serial >= NEWER_REFRESH_LIMIT:
                raise self._refuse("The refresh token was superseded by newer ones.")
            self._check_mint(_user_of(found.grant))
            found.spent = True
            if self.config.old_access_tokens == "revoke":
                self._revoke_access(found.access_token)
            self.counters.refreshes += 1
            return self._tokens(found.grant, minted=True)

    def issue(
        self,
        scopes: list[str] | tuple[str, ...],
        user_id: int = 1,
        kind: GrantKind = "production",
        org: str | None = None,
    ) -> dict[str, Any]:
        """A grant made without the browser flow: the token response a code exchange gives,
        for ``user_id`` of ``org`` (default: the default org).

        Not a mint through the token endpoint: it spends none of the user's minting allowance
        (as if the grant had been made long ago), so a test can refresh right after.
        """
        user = self.user(org, user_id)
        client_id = self.config.client_id if kind == "production" else self.config.dev_client_id
        if client_id is None:
            raise ValueError("development credentials are not configured")
        unknown = [s for s in scopes if not known_scope(s)]
        if unknown:
            raise ValueError(f"unknown scopes {unknown}")
        with self._lock:
            return self._tokens(self._new_grant(client_id, user, tuple(scopes), kind))

    def issue_app_token(self, install_id: str, scopes: frozenset[str]) -> tuple[str, float]:
        """An S2S access token acting as the app in one install (of the default org);
        (token, expires_at)."""
        token = secrets.token_urlsafe(48)
        expires_at = self.clock.now() + APP_TOKEN_TTL
        with self._lock:
            self._access[token] = AccessToken(
                scopes, expires_at, f"app:{install_id}", self.default_org
            )
            self.counters.app_tokens += 1
        return token, expires_at

    def _new_grant(
        self, client_id: str, user: User, scopes: tuple[str, ...], kind: GrantKind
    ) -> Grant:
        org, user_id = user
        grant = Grant(next(self._ids), client_id, org, user_id, scopes, kind, self.clock.now())
        self._grants.append(grant)
        return grant

    def _check_mint(self, user: User) -> None:
        """Refuse a mint sooner than ``token_mint_interval`` after the user's last one: the
        limit is the user's, shared by every grant that user made, and no one else's."""
        interval = self.config.token_mint_interval
        last = self._last_mint.get(user)
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
        user = _user_of(grant)
        if minted:
            self._last_mint[user] = now
            self.mints[user] += 1
        access = self._signed_access_token(grant.user_id, now)
        refresh = secrets.token_urlsafe(48)
        key = (user, grant.client_id)
        self._serials[key] = serial = self._serials.get(key, 0) + 1
        ttl = self.config.access_token_ttl
        self._access[access] = AccessToken(
            frozenset(grant.scopes), now + ttl, f"user:{grant.user_id}", grant.org, grant
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

    def revoke_user(self, org: str | None, user_id: int) -> int:
        """Revoke every live grant ``user_id`` of ``org`` made (the user disconnecting the app);
        other users' grants, in that org or any other, live on. Returns how many."""
        user = self.user(org, user_id)
        with self._lock:
            live = [g for g in self._grants if _user_of(g) == user and not g.dead]
            for grant in live:
                grant.dead = True
            return len(live)

    def expire_user(self, org: str | None, user_id: int) -> int:
        """Let every grant of the user lapse: its refresh tokens are past their 14 days (a
        refresh answers ``invalid_grant`` "expired") and its access tokens past their lifetime
        (401). Returns how many live grants it touched."""
        user = self.user(org, user_id)
        now = self.clock.now()
        with self._lock:
            live = {g.id for g in self._grants if _user_of(g) == user and not g.dead}
            for refresh in self._refresh.values():
                if refresh.grant.id in live:
                    refresh.issued_at = min(refresh.issued_at, now - REFRESH_TTL - 1)
            self._end_access(live, now)
            return len(live)

    def expire_access(self, org: str | None, user_id: int) -> int:
        """End the user's live access tokens now, as if their 2 hours were up: the next API
        request answers 401 and a refresh (still valid) gets a new one. Returns how many."""
        user = self.user(org, user_id)
        with self._lock:
            live = {g.id for g in self._grants if _user_of(g) == user and not g.dead}
            return self._end_access(live, self.clock.now())

    def _end_access(self, grant_ids: set[int], now: float) -> int:
        ended = 0
        for access in self._access.values():
            grant = access.grant
            if grant is not None and grant.id in grant_ids and access.expires_at > now:
                access.expires_at = now
                ended += 1
        return ended

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

    def usage(self, org: str) -> dict[str, Any]:
        """Per user of ``org`` (ids as strings, as in JSON): live grants and tokens minted at
        the token endpoint."""
        with self._lock:
            live: Counter[str] = Counter(
                str(g.user_id) for g in self._grants if g.org == org and self._grant_alive(g)
            )
            minted = {str(user_id): n for (o, user_id), n in self.mints.items() if o == org}
            return {
                "token_mints": sum(minted.values()),
                "token_mints_by_user": minted,
                "live_grants": sum(live.values()),
                "live_grants_by_user": dict(live),
            }

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "grants": len(self._grants),
                "live_grants": sum(1 for g in self._grants if self._grant_alive(g)),
                **vars(self.counters),
            }


def _user_of(grant: Grant) -> User:
    return grant.org, grant.user_id


def _b64url(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")
