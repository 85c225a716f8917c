"""The OAuth endpoints as seen by the client: the authorize URL, code exchange and refresh.

Form values go through httpx's form encoding, so a client secret holding ``+&=/%`` arrives
intact. Transient failures are retried (:mod:`.retry`); a 400 is final and reported as
:class:`TokenRequestRefused` (Outreach's Doorkeeper answers ``invalid_grant`` for a revoked,
expired or spent grant; connectors treat any 400 on refresh as a dead grant).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import httpx

from outreach_pipeline.auth.errors import AuthError, ClientRejected
from outreach_pipeline.auth.grant import TokenResponse
from outreach_pipeline.auth.retry import TokenRetryPolicy, send_with_retries, transient_answer
from outreach_pipeline.settings import Credentials, Secret


class TokenRequestRefused(AuthError):
    """The token endpoint refused the grant or code (HTTP 400): retrying will not help."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


class OAuthClient:
    """One credential pair talking to ``{oauth_url}/authorize`` and ``{oauth_url}/token``."""

    def __init__(
        self,
        oauth_url: str,
        credentials: Credentials,
        redirect_uri: str,
        retry: TokenRetryPolicy | None = None,
    ) -> None:
        self.oauth_url = oauth_url.rstrip("/")
        self.credentials = credentials
        self.redirect_uri = redirect_uri
        self.retry = retry

    def __repr__(self) -> str:
        return f"OAuthClient({self.oauth_url!r}, {self.credentials.kind})"

    def authorize_url(self, scopes: list[str], state: str) -> str:
        params = {
            "client_id": self.credentials.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": " ".join(scopes),
            "state": state,
        }
        return f"{self.oauth_url}/authorize?{urlencode(params, quote_via=quote)}"

    def exchange_code(self, code: Secret) -> TokenResponse:
        return self._token_request(
            "the authorization code exchange",
            {
                "grant_type": "authorization_code",
                "code": code.reveal(),
                "redirect_uri": self.redirect_uri,
            },
        )

    def refresh(self, refresh_token: Secret) -> TokenResponse:
        return self._token_request(
            "the token refresh",
            {"grant_type": "refresh_token", "refresh_token": refresh_token.reveal()},
        )

    def _token_request(self, name: str, form: dict[str, str]) -> TokenResponse:
        data = {
            "client_id": self.credentials.client_id,
            "client_secret": self.credentials.client_secret.reveal(),
            **form,
        }

        def attempt(timeout: httpx.Timeout) -> TokenResponse:
            with httpx.Client(timeout=timeout) as http:
                response = http.post(f"{self.oauth_url}/token", data=data)
            transient = transient_answer(response)
            if transient is not None:
                raise transient
            return _token_response(name, response)

        return send_with_retries(name, attempt, self.retry)


def _token_response(name: str, response: httpx.Response) -> TokenResponse:
    body = _json_object(response)
    if response.status_code == 400:
        raise TokenRequestRefused(
            str(body.get("error") or "HTTP 400"), str(body.get("error_description") or "")
        )
    if response.status_code == 401:
        raise ClientRejected(
            f"{name} was refused: the token endpoint does not accept the client id and secret "
            "(check OUTREACH_CLIENT_ID/OUTREACH_CLIENT_SECRET or OUTREACH_DEV_*)"
        )
    if response.status_code != 200:
        raise AuthError(f"{name} got an unexpected HTTP {response.status_code}")
    try:
        return TokenResponse(
            access_token=Secret(str(body["access_token"])),
            refresh_token=Secret(str(body["refresh_token"])),
            expires_in=float(body["expires_in"]),
            scopes=tuple(str(body.get("scope") or "").split()),
        )
    except (KeyError, TypeError, ValueError):
        raise AuthError(f"{name} answered without a usable token") from None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
