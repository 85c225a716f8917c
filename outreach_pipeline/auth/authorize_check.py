"""Before ``auth login`` waits minutes for a redirect: does the authorize page answer at all,
and does it accept this client?

One GET of the very URL the browser is sent to, redirects not followed (a login page or the
redirect itself is a good sign; nothing here follows it, so no code is taken). A connection
refused, a name that does not resolve, or a 4xx/5xx answer (the emulator answers 400 "Unknown
client" for a client id it does not know, and for an unregistered redirect URI) stops the
login at once with that cause, instead of the timeout blaming the redirect URI.
"""

from __future__ import annotations

import html
import re

import httpx

from outreach_pipeline.auth.errors import AuthorizationFailed, outside_text
from outreach_pipeline.transport import request_within

_TAG = re.compile(r"<(script|style|title)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)
CHECK_TIMEOUT = 15.0


def check_authorize_url(url: str, oauth_url: str) -> None:
    """Raise :class:`AuthorizationFailed` naming the cause when ``url`` cannot work."""
    try:
        response = request_within(CHECK_TIMEOUT, "GET", url)
    except httpx.HTTPError as error:
        raise AuthorizationFailed(
            f"cannot reach the authorize page under OUTREACH_OAUTH_URL={oauth_url} "
            f"({outside_text(f'{type(error).__name__}: {error}')}): is the URL right and the "
            "server up? Nothing was stored"
        ) from None
    if response.status_code >= 400:
        said = outside_text(html.unescape(_TAG.sub(" ", response.text[:4096])), 200)
        raise AuthorizationFailed(
            f"the authorize page under OUTREACH_OAUTH_URL={oauth_url} answered HTTP "
            f"{response.status_code}" + (f" ({said})" if said else "") + ": check the client id "
            "(OUTREACH_CLIENT_ID, or OUTREACH_DEV_CLIENT_ID) and that OUTREACH_REDIRECT_URI is "
            "registered for the app. Nothing was stored"
        )
