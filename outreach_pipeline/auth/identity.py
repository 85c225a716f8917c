"""Who authorized a grant, for ``auth status``: best effort, never an error.

Outreach's token response names no user. Its access tokens are JWTs (the API's 401 says
"Invalid JWT token."); the claim names carrying the user are a guess (``sub``/``user_id``/
``email``; the emulator's tokens carry ``sub``). With an id but no email, ``/users/{id}``
gives the email (it needs ``users.read``, which every login asks for). Opaque tokens give no
identity.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx

from outreach_pipeline.auth.errors import outside_text
from outreach_pipeline.settings import Secret
from outreach_pipeline.transport import request_within

log = logging.getLogger(__name__)
USER_ID_CLAIMS = ("user_id", "userId", "sub")
EMAIL_CLAIMS = ("email", "user_email")
MAX_EMAIL_LENGTH = 254


def token_claims(access_token: Secret) -> dict[str, Any]:
    """The unverified payload of a JWT access token, or {} for anything else."""
    parts = access_token.reveal().split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def identify(
    api_url: str, access_token: Secret, deadline: float = 10.0
) -> tuple[int | None, str | None]:
    """(user id, email) of whoever authorized ``access_token``, each None when unknown. Values
    of the wrong shape count as unknown; an email is made printable (it is shown by
    ``auth status``). The ``/users`` request gives up after ``deadline`` seconds in all."""
    claims = token_claims(access_token)
    user_id = next((_user_id(claims[c]) for c in USER_ID_CLAIMS if _user_id(claims.get(c))), None)
    email = next((_email(claims[c]) for c in EMAIL_CLAIMS if _email(claims.get(c))), None)
    if user_id is None or email is not None:
        return user_id, email
    try:
        response = request_within(
            deadline,
            "GET",
            f"{api_url.rstrip('/')}/users/{user_id}",
            headers={"Authorization": f"Bearer {access_token.reveal()}"},
        )
        if response.is_success:
            email = _email(response.json()["data"]["attributes"].get("email"))
    except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.debug("could not read the authorizing user (%s)", type(error).__name__)
    return user_id, email


def _user_id(value: object) -> int | None:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _email(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return outside_text(value, MAX_EMAIL_LENGTH) or None
