"""The :class:`Grant` record: one user's OAuth grant as the token store keeps it.

Tokens are held as :class:`~outreach_pipeline.settings.Secret` so a grant's ``repr`` never shows
them. Times are epoch seconds of this machine's clock (expiry = receipt time + ``expires_in``,
so a skewed server clock does not matter).

An access token lives between :data:`MIN_TOKEN_LIFETIME` and :data:`MAX_TOKEN_LIFETIME` whatever
a server or a stored file says: a lifetime of 0 would refresh before every request, one of
``1e308`` would overflow every date computed from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, get_args

from outreach_pipeline.settings import CredentialKind, Secret

# Outreach documents 2 hours ("expires_in": 7200); assumed when a token answer omits it.
DEFAULT_TOKEN_LIFETIME = 7200.0
MIN_TOKEN_LIFETIME = 60.0
MAX_TOKEN_LIFETIME = 365 * 24 * 3600.0
# Stored times beyond this (the year 3000) are clamped: dates computed from them stay printable.
MAX_EPOCH = 32503680000.0


def clamped_lifetime(seconds: float) -> float:
    return min(max(seconds, MIN_TOKEN_LIFETIME), MAX_TOKEN_LIFETIME)


@dataclass(frozen=True)
class TokenResponse:
    """What the token endpoint answered to a code exchange or a refresh."""

    access_token: Secret = field(repr=False)
    # None when a refresh did not rotate it (RFC 6749 6: the client keeps the one it has).
    refresh_token: Secret | None = field(repr=False)
    expires_in: float
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Reauthorization:
    """Why and since when (epoch seconds) a grant needs a person to log in again."""

    reason: str
    since: float


@dataclass(frozen=True)
class Grant:
    """One user's OAuth grant as the token store keeps it: the current tokens, what they
    allow, which app credential issued them and, once a refresh has been refused for good,
    why a person must log in again. Immutable: a refresh or a mark returns a new grant,
    which the caller saves under the store's lock."""

    access_token: Secret = field(repr=False)
    access_expires_at: float
    refresh_token: Secret = field(repr=False)
    scopes: tuple[str, ...]
    credential_kind: CredentialKind
    granted_at: float
    # When the current refresh token was obtained by a refresh; None until the first one.
    refreshed_at: float | None = None
    user_id: int | None = None
    user_email: str | None = None
    reauthorization: Reauthorization | None = None

    @classmethod
    def from_token_response(
        cls, response: TokenResponse, kind: CredentialKind, now: float
    ) -> Grant:
        # The code exchange's answer is refused without a refresh token (see token_answer).
        assert response.refresh_token is not None
        return cls(
            access_token=response.access_token,
            access_expires_at=now + clamped_lifetime(response.expires_in),
            refresh_token=response.refresh_token,
            scopes=response.scopes,
            credential_kind=kind,
            granted_at=now,
        )

    @property
    def tokens_obtained_at(self) -> float:
        """When the current access and refresh tokens were obtained."""
        return self.refreshed_at if self.refreshed_at is not None else self.granted_at

    def refreshed(self, response: TokenResponse, now: float) -> Grant:
        """This grant with the tokens of a refresh (the refresh token kept when not rotated)."""
        return replace(
            self,
            access_token=response.access_token,
            access_expires_at=now + clamped_lifetime(response.expires_in),
            refresh_token=(
                self.refresh_token if response.refresh_token is None else response.refresh_token
            ),
            scopes=response.scopes or self.scopes,
            refreshed_at=now,
        )

    def needing_reauthorization(self, reason: str, now: float) -> Grant:
        """Marked (the first reason and time are kept when already marked)."""
        if self.reauthorization is not None:
            return self
        return replace(self, reauthorization=Reauthorization(reason, now))

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token.reveal(),
            "access_expires_at": self.access_expires_at,
            "refresh_token": self.refresh_token.reveal(),
            "scopes": list(self.scopes),
            "credential_kind": self.credential_kind,
            "granted_at": self.granted_at,
            "refreshed_at": self.refreshed_at,
            "user_id": self.user_id,
            "user_email": self.user_email,
            "reauthorization": (
                None
                if self.reauthorization is None
                else {"reason": self.reauthorization.reason, "since": self.reauthorization.since}
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Grant:
        """The grant a stored document describes; ``ValueError``/``TypeError``/``KeyError``
        when it does not describe one. Times are clamped to printable ones; an access-token expiry
        that is not a number (``NaN``, ``"inf"``) is taken as due now."""
        mark = data.get("reauthorization")
        reauthorization = (
            None if mark is None else Reauthorization(_text(mark["reason"]), _epoch(mark["since"]))
        )
        granted_at = _epoch(data["granted_at"])
        refreshed = data.get("refreshed_at")
        refreshed_at = None if refreshed is None else _epoch(refreshed)
        obtained = granted_at if refreshed_at is None else refreshed_at
        kind = data["credential_kind"]
        if kind not in get_args(CredentialKind):
            raise ValueError("unknown credential kind")
        user_id = data.get("user_id")
        if user_id is not None and (isinstance(user_id, bool) or not isinstance(user_id, int)):
            raise TypeError("user_id")
        email = data.get("user_email")
        return cls(
            access_token=Secret(_text(data["access_token"])),
            access_expires_at=_stored_expiry(data["access_expires_at"], obtained),
            refresh_token=Secret(_text(data["refresh_token"])),
            scopes=tuple(_text(scope) for scope in data["scopes"]),
            credential_kind=kind,
            granted_at=granted_at,
            refreshed_at=refreshed_at,
            user_id=user_id,
            user_email=None if email is None else _text(email),
            reauthorization=reauthorization,
        )


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def finite_number(value: object) -> float | None:
    """``value`` as a finite float, None when it is not a number (booleans are not)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _epoch(value: object) -> float:
    number = finite_number(value)
    if number is None:
        raise ValueError("a stored time is not a number")
    return min(max(number, 0.0), MAX_EPOCH)


def _stored_expiry(value: object, obtained: float) -> float:
    """A stored expiry as a printable time; one that is not a number makes the token due."""
    number = finite_number(value)
    return obtained if number is None else min(max(number, 0.0), MAX_EPOCH)
