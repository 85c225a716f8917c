"""What a token endpoint's answer means, checked whole before anything is kept.

RFC 6749 5.1 makes ``expires_in`` recommended, not required, and a refresh may or may not
rotate the refresh token (6); Outreach documents both, but a client must not fail without
them: a missing lifetime is taken as Outreach's documented 2 hours, a missing refresh token on
a refresh means the current one stays. Lifetimes that are not numbers, or absurd (0, negative,
``1e308``), are replaced or clamped with a warning. Tokens must be printable ASCII without
spaces (they go into an ``Authorization`` header) and of sane length.

A 400 is the only final refusal of a grant; any other unexpected answer (a redirect, a 403, an
HTML page, a token that cannot be used) keeps the stored grant and says what to check.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx

from outreach_pipeline.auth.errors import (
    ClientRejected,
    TokenRequestRefused,
    UnexpectedTokenAnswer,
    outside_text,
)
from outreach_pipeline.auth.grant import (
    DEFAULT_TOKEN_LIFETIME,
    TokenResponse,
    clamped_lifetime,
    finite_number,
)
from outreach_pipeline.settings import Secret

log = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 16384
_TOKEN_SHAPE = re.compile(r"[\x21-\x7e]+")


def read_token_answer(
    name: str, token_url: str, response: httpx.Response, rotation_expected: bool
) -> TokenResponse:
    """The token response in ``response`` to the request called ``name``; raises
    :class:`TokenRequestRefused` (400), :class:`ClientRejected` (401) or
    :class:`UnexpectedTokenAnswer`. ``rotation_expected`` (a refresh) makes the refresh token
    optional; a code exchange must yield one."""
    kept = (
        "the stored grant is kept: check OUTREACH_OAUTH_URL (its token endpoint is "
        f"{token_url}) and try again later"
    )
    if response.status_code == 400:
        refusal = _json_object(response) or {}
        raise TokenRequestRefused(
            _field_text(refusal.get("error")) or "HTTP 400",
            _field_text(refusal.get("error_description")),
        )
    if response.status_code == 401:
        raise ClientRejected(
            f"{name} was refused: the token endpoint does not accept the client id and secret "
            "(check OUTREACH_CLIENT_ID/OUTREACH_CLIENT_SECRET or OUTREACH_DEV_*)"
        )
    if response.is_redirect:
        raise UnexpectedTokenAnswer(
            f"{name} was redirected (HTTP {response.status_code}) instead of answered", kept
        )
    if response.status_code != 200:
        raise UnexpectedTokenAnswer(
            f"{name} got HTTP {response.status_code}, which a token endpoint does not answer", kept
        )
    body = _json_object(response)
    if body is None:
        kind = outside_text(response.headers.get("content-type", "no content type"), 60)
        raise UnexpectedTokenAnswer(f"{name} answered HTTP 200 without a JSON token ({kind})", kept)
    access_token = _token(body.get("access_token"))
    refresh_token = _token(body.get("refresh_token"))
    problem = _unusable(body, access_token, refresh_token, rotation_expected)
    if problem is not None or access_token is None:
        rotated = refresh_token if rotation_expected else None
        raise UnexpectedTokenAnswer(
            f"{name} answered without a usable token ({problem})", kept, rotated
        )
    scope = body.get("scope")
    return TokenResponse(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=_lifetime(name, body.get("expires_in")),
        scopes=tuple(scope.split()) if isinstance(scope, str) else (),
    )


def _unusable(
    body: dict[str, Any],
    access_token: Secret | None,
    refresh_token: Secret | None,
    rotation_expected: bool,
) -> str | None:
    """What makes the answer unusable, or None."""
    if access_token is None:
        return "no access token of a usable form"
    token_type = body.get("token_type", "bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        return f"token type {outside_text(str(token_type), 40)!r}, not bearer"
    if "refresh_token" in body and body["refresh_token"] is not None and refresh_token is None:
        return "a refresh token of an unusable form"
    if refresh_token is None and not rotation_expected:
        return "no refresh token, which unattended syncs need"
    return None


def _token(value: object) -> Secret | None:
    if not isinstance(value, str) or len(value) > MAX_TOKEN_LENGTH:
        return None
    return Secret(value) if _TOKEN_SHAPE.fullmatch(value) else None


def _lifetime(name: str, value: object) -> float:
    """``expires_in`` in seconds: clamped to the lifetimes a token can have; the documented
    default when absent (silently) or not a number (with a warning)."""
    if value is None:
        return DEFAULT_TOKEN_LIFETIME
    seconds = finite_number(value)
    if seconds is None:
        log.warning(
            "%s gave an expires_in that is not a number (%s); assuming %.0f s",
            name,
            outside_text(str(value), 40),
            DEFAULT_TOKEN_LIFETIME,
        )
        return DEFAULT_TOKEN_LIFETIME
    clamped = clamped_lifetime(seconds)
    if clamped != seconds:
        log.warning("%s gave expires_in %g s; using %.0f s", name, seconds, clamped)
    return clamped


def _field_text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
