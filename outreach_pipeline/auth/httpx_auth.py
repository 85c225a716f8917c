"""The ``httpx.Auth`` the API client uses: a bearer token from a :class:`TokenSource`, and on a
401 one renewal and a retry of the request.

If the retry is refused too although its token was just obtained from the server, the token
source records that the grant is refused and raises. If the renewal only took a token another
process had obtained meanwhile, one forced renewal follows before giving up.

Whatever the token source raises leaves as an :class:`AuthError` (see :func:`auth_boundary`),
so a failure in the middle of a sync is reported as one line, never as a traceback.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from outreach_pipeline.auth.errors import auth_boundary
from outreach_pipeline.auth.tokens import Renewal, TokenSource
from outreach_pipeline.settings import Secret


class BearerTokenAuth(httpx.Auth):
    requires_request_body = True  # the request may be sent twice

    def __init__(self, tokens: TokenSource) -> None:
        self.tokens = tokens

    def __repr__(self) -> str:
        return f"BearerTokenAuth({type(self.tokens).__name__})"

    def current(self) -> Secret:
        """A token for the next request, obtained now if need be: called before a sync starts,
        a failure to authenticate is reported once instead of by every stream."""
        with auth_boundary("getting an Outreach access token"):
            return self.tokens.current()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.current()
        response = yield _authorized(request, token)
        for force in (False, True):
            if response.status_code != 401:
                return
            renewal = self._renew(token, force)
            token = renewal.token
            response = yield _authorized(request, token)
            if response.status_code == 401 and renewal.fresh:
                break
        if response.status_code == 401:
            with auth_boundary("recording the refused grant"):
                self.tokens.refused_after_renewal()

    def _renew(self, rejected: Secret, force: bool) -> Renewal:
        with auth_boundary("renewing the Outreach access token"):
            return self.tokens.renew(rejected, force=force)


def _authorized(request: httpx.Request, token: Secret) -> httpx.Request:
    request.headers["Authorization"] = f"Bearer {token.reveal()}"
    return request
