"""The auth layer's exceptions. Every message is safe to print: none carries a secret, and
transport errors from httpx (whose requests hold form bodies and headers) are wrapped, never
chained, so a traceback cannot show them either."""

from __future__ import annotations

LOGIN_HINT = "run `outreach-pipeline auth login` to authorize again"


class AuthError(Exception):
    """Base of every auth failure."""


class ReauthorizationRequired(AuthError):
    """The grant is gone (revoked, expired, refused) or absent: a person has to log in again."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason}; {LOGIN_HINT}")
        self.reason = reason


class AuthorizationFailed(AuthError):
    """The browser authorization did not produce a grant (state mismatch, denial, bad code)."""


class TokenEndpointUnavailable(AuthError):
    """The token endpoint kept failing transiently (429, 5xx, timeouts) until retries ran out."""


class ClientRejected(AuthError):
    """The token endpoint refused the client id/secret: a configuration problem, not the grant's."""


class S2STokenRefused(AuthError):
    """The S2S exchange refused the app token, or the API refused the S2S access token."""


class TokenStoreError(AuthError):
    """The token store cannot be read or written (corrupt file, wrong encryption key)."""
