"""OAuth grant lifecycle and S2S tokens for the Outreach API, as an ``httpx.Auth``.

Modules: ``grant`` (the stored record), ``token_store`` (+ ``encryption``), ``oauth`` (authorize
URL, code exchange, refresh), ``token_answer`` (what a token endpoint's answer means, checked
whole), ``retry`` (bounded tenacity retries of token requests, honouring Retry-After),
``token_manager`` (proactive and 401-driven refresh across processes), ``s2s`` (app JWT
exchange), ``tokens`` + ``httpx_auth`` (the ``httpx.Auth``), ``build`` (``build_auth``),
``login`` (browser authorization), ``identity`` (who authorized), ``health`` (grant health for
``auth status`` and alerting), ``errors`` (every failure an :class:`AuthError` with one line
that is safe to print).
"""

from outreach_pipeline.auth.build import build_auth, oauth_client
from outreach_pipeline.auth.errors import (
    LOGIN_HINT,
    AuthError,
    AuthorizationFailed,
    ReauthorizationRequired,
    TokenEndpointUnavailable,
    TokenStoreError,
    grant_named,
    login_command,
    login_hint,
)
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.health import GrantHealth, assess_grant, assess_stored_grant, duration
from outreach_pipeline.auth.httpx_auth import BearerTokenAuth
from outreach_pipeline.auth.login import DEFAULT_LOGIN_TIMEOUT, login, new_state
from outreach_pipeline.auth.s2s import unreachable_streams
from outreach_pipeline.auth.token_store import open_token_store, stored_grant_names

__all__ = [
    "DEFAULT_LOGIN_TIMEOUT",
    "LOGIN_HINT",
    "AuthError",
    "AuthorizationFailed",
    "BearerTokenAuth",
    "Grant",
    "GrantHealth",
    "ReauthorizationRequired",
    "TokenEndpointUnavailable",
    "TokenStoreError",
    "assess_grant",
    "assess_stored_grant",
    "build_auth",
    "duration",
    "grant_named",
    "login",
    "login_command",
    "login_hint",
    "new_state",
    "oauth_client",
    "open_token_store",
    "stored_grant_names",
    "unreachable_streams",
]
