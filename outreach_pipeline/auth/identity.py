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

from outreach_pipeline.settings import Secret

log = logging.getLogger(__name__)
USER_ID_CLAIMS = ("user_id", "userId", "sub")
EMAIL_CLAIMS = ("email", "user_email")


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


def identify(api_url: str, access_token: Secret) -> tuple[int | None, str | None]:
    """(user id, email) of whoever authorized ``access_token``, each None when unknown."""
    claims = token_claims(access_token)
    user_id = next((claims[c] for c in USER_ID_CLAIMS if str(claims.get(c, "")).isdigit()), None)
    email = next((claims[c] for c in EMAIL_CLAIMS if claims.get(c)), None)
    if user_id is None or email is not None:
        return (None if user_id is None else int(user_id)), email
    try:
        response = httpx.get(
            f"{api_url.rstrip('/')}/users/{int(user_id)}",
            headers={"Authorization": f"Bearer {access_token.reveal()}"},
            timeout=10,
        )
        email = response.json()["data"]["attributes"].get("email") if response.is_success else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
        log.debug("could not read the authorizing user (%s)", type(error).__name__)
    return int(user_id), email
