"""The OAuth endpoints as seen by the client: the authorize URL, code exchange and refresh.

Form values go through httpx's form encoding, so a client secret holding ``+&=/%`` arrives
intact. Transient failures are retried (:mod:`.retry`); a 400 is final and reported as
:class:`~.errors.TokenRequestRefused` (Outreach's Doorkeeper answers ``invalid_grant`` for a
revoked, expired or spent grant; connectors treat any 400 on refresh as a dead grant); every other
answer is checked whole by :mod:`.token_answer`.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import httpx

from outreach_pipeline.auth.errors import auth_boundary
from outreach_pipeline.auth.grant import TokenResponse
from outreach_pipeline.auth.retry import send_with_retries, transient_answer
from outreach_pipeline.auth.token_answer import read_token_answer
from outreach_pipeline.retry import RetryPolicy
from outreach_pipeline.settings import Credentials, Secret
from outreach_pipeline.transport import request_within


class OAuthClient:
    """One credential pair talking to ``{oauth_url}/authorize`` and ``{oauth_url}/token``."""

    def __init__(
        self,
        oauth_url: str,
        credentials: Credentials,
        redirect_uri: str,
        retry: RetryPolicy | None = None,
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
            rotation_expected=False,
            form={
                "grant_type": "authorization_code",
                "code": code.reveal(),
                "redirect_uri": self.redirect_uri,
            },
        )

    def refresh(self, refresh_token: Secret) -> TokenResponse:
        return self._token_request(
            "the token refresh",
            rotation_expected=True,
            form={"grant_type": "refresh_token", "refresh_token": refresh_token.reveal()},
        )

    def _token_request(
        self, name: str, rotation_expected: bool, form: dict[str, str]
    ) -> TokenResponse:
        data = {
            "client_id": self.credentials.client_id,
            "client_secret": self.credentials.client_secret.reveal(),
            **form,
        }

        token_url = f"{self.oauth_url}/token"

        def attempt(timeout: httpx.Timeout) -> TokenResponse:
            response = request_within(timeout.read, "POST", token_url, timeout=timeout, data=data)
            transient = transient_answer(response)
            if transient is not None:
                raise transient
            return read_token_answer(name, token_url, response, rotation_expected)

        with auth_boundary(name):
            return send_with_retries(name, attempt, self.retry)
