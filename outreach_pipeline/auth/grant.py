"""The :class:`Grant` record: one user's OAuth grant as the token store keeps it.

Tokens are held as :class:`~outreach_pipeline.settings.Secret` so a grant's ``repr`` never shows
them. Times are epoch seconds of this machine's clock (expiry = receipt time + ``expires_in``,
so a skewed server clock does not matter).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from outreach_pipeline.settings import CredentialKind, Secret


@dataclass(frozen=True)
class TokenResponse:
    """What the token endpoint answered to a code exchange or a refresh."""

    access_token: Secret = field(repr=False)
    refresh_token: Secret = field(repr=False)
    expires_in: float
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Reauthorization:
    """Why and since when (epoch seconds) a grant needs a person to log in again."""

    reason: str
    since: float


@dataclass(frozen=True)
class Grant:
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
        return cls(
            access_token=response.access_token,
            access_expires_at=now + response.expires_in,
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
        """This grant with the rotated tokens of a refresh."""
        return replace(
            self,
            access_token=response.access_token,
            access_expires_at=now + response.expires_in,
            refresh_token=response.refresh_token,
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
        mark = data.get("reauthorization")
        reauthorization = None if mark is None else Reauthorization(mark["reason"], mark["since"])
        return cls(
            access_token=Secret(data["access_token"]),
            access_expires_at=float(data["access_expires_at"]),
            refresh_token=Secret(data["refresh_token"]),
            scopes=tuple(data["scopes"]),
            credential_kind=data["credential_kind"],
            granted_at=float(data["granted_at"]),
            refreshed_at=data.get("refreshed_at"),
            user_id=data.get("user_id"),
            user_email=data.get("user_email"),
            reauthorization=reauthorization,
        )
