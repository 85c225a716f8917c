"""The OAuth endpoints: ``/oauth/authorize`` (consent) and ``/oauth/token`` (codes, refresh).

Bad client ids and unregistered redirect URIs get a 400 page and never a redirect (redirecting
to an unregistered URI would leak the code); every other authorize error goes back to the
redirect URI as ``error=...`` with ``state`` echoed untouched.

Who consents: ``login_hint`` names the user, as ``ORG:USER_ID`` or a bare user id of the
default org; without it, the user the admin endpoint chose (``Grants.authorize_as``). With more
than one org the consent page also lets the person pick the user (org) to sign in as.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from urllib.parse import unquote, urlencode

from outreach_emulator.config import EmulatorConfig
from outreach_emulator.faults import Faults
from outreach_emulator.grants import Grants, MintLimited, OAuthError, User, known_scope
from outreach_emulator.messages import (
    Request,
    Response,
    json_response,
    redirect,
    text_response,
)
from outreach_emulator.orgs import Org

TRANSIENT_TOKEN_ANSWERS = {429: "Retry later", 503: "no healthy upstream"}
_AUTHORIZE_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state", "login_hint")


class OAuthEndpoints:
    def __init__(
        self, config: EmulatorConfig, grants: Grants, faults: Faults, orgs: Mapping[str, Org]
    ) -> None:
        self.config = config
        self.grants = grants
        self.faults = faults
        self.orgs = orgs

    # -- /oauth/authorize ------------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        params = request.form() if request.method == "POST" else dict(request.query)
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if self.grants.client_kind(client_id) is None:
            return _page(400, "Unknown client", "The client_id is not a registered application.")
        if redirect_uri not in self.config.redirect_uris:
            return _page(
                400,
                "Invalid redirect URI",
                "The redirect_uri is not registered for this application.",
            )
        state = params.get("state")
        if params.get("response_type") != "code":
            return _back(redirect_uri, state, error="unsupported_response_type")
        scopes = tuple(params.get("scope", "").split())
        if not scopes or not all(known_scope(s) for s in scopes):
            return _back(redirect_uri, state, error="invalid_scope")
        user = self._user(params.get("login_hint", ""))
        if user is None:
            return _page(400, "Unknown user", "The login_hint names no user of any org.")
        if request.method == "POST":
            if params.get("decision") != "allow":
                return _back(redirect_uri, state, error="access_denied")
        elif not self.config.auto_consent:
            return _consent_page(params, scopes, self._user_choices(params))
        code = self.grants.new_code(client_id, redirect_uri, scopes, user)
        return _back(redirect_uri, state, code=code)

    def _user(self, hint: str) -> User | None:
        """The user ``login_hint`` names (``ORG:ID`` or an id of the default org), or the one
        chosen over the admin endpoint when the hint is of another form (an email, say, which
        only hints); None for a user no org has."""
        org, _, user_id = hint.rpartition(":")
        if not user_id.isdigit():
            return self.grants.user()
        try:
            return self.grants.user(org or None, int(user_id))
        except ValueError:
            return None

    def _user_choices(self, params: dict[str, str]) -> list[str]:
        """``ORG:ID`` of every user the consent page offers: none with a single org (the page
        stays as it always was) or when ``login_hint`` already chose."""
        if len(self.orgs) < 2 or params.get("login_hint"):
            return []
        return [f"{name}:{i}" for name, org in self.orgs.items() for i in org.user_ids()]

    # -- /oauth/token ----------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        failure = self.faults.take_token_failure()
        if failure is not None:
            return text_response(failure, TRANSIENT_TOKEN_ANSWERS.get(failure, "error"))
        form = request.form()
        client_id, client_secret = _client_credentials(request, form)
        grant_type = form.get("grant_type", "")
        try:
            if grant_type == "authorization_code":
                body = self.grants.exchange_code(
                    client_id,
                    client_secret,
                    _required(form, "code"),
                    _required(form, "redirect_uri"),
                )
            elif grant_type == "refresh_token":
                body = self.grants.refresh(
                    client_id, client_secret, _required(form, "refresh_token")
                )
            else:
                raise OAuthError(400, "unsupported_grant_type", "The grant_type is not supported.")
        except OAuthError as refusal:
            return json_response(
                refusal.status,
                {"error": refusal.error, "error_description": refusal.description},
            )
        except MintLimited as limited:
            # The body is what the token endpoint was seen answering; Retry-After is a guess
            # (the API's own 429s carry one), saying when this user may mint again.
            busy = text_response(429, TRANSIENT_TOKEN_ANSWERS[429])
            busy.headers.append(("Retry-After", str(limited.retry_after)))
            return busy
        return json_response(200, body, headers=[("Cache-Control", "no-store")])


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise OAuthError(400, "invalid_request", f"The {name} parameter is missing.")
    return value


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """From the form, or from HTTP Basic (which Doorkeeper-style servers also accept)."""
    if "client_id" in form:
        return form.get("client_id", ""), form.get("client_secret", "")
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return "", ""
        return unquote(user), unquote(password)
    return "", ""


def _back(redirect_uri: str, state: str | None, **values: str) -> Response:
    params = dict(values)
    if state is not None:
        params["state"] = state
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{separator}{urlencode(params)}")


def _page(status: int, title: str, message: str) -> Response:
    body = (
        f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    return text_response(status, body, "text/html")


def _consent_page(params: dict[str, str], scopes: tuple[str, ...], users: list[str]) -> Response:
    picker = ""
    if users:
        options = "".join(
            f'<option value="{html.escape(u)}">{html.escape(u)}</option>' for u in users
        )
        picker = f'<p>Sign in as <select name="login_hint">{options}</select></p>'
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
        for name in _AUTHORIZE_FIELDS
        if name in params
    )
    listed = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
    body = (
        "<!DOCTYPE html><html><head><title>Authorize application</title></head><body>"
        "<h1>Outreach (emulated)</h1><p>The application asks for access to:</p>"
        f"<ul>{listed}</ul>"
        f'<form method="post" action="/oauth/authorize">{hidden}{picker}'
        '<button type="submit" name="decision" value="allow">Allow</button> '
        '<button type="submit" name="decision" value="deny">Deny</button>'
        "</form></body></html>"
    )
    return text_response(200, body, "text/html")
