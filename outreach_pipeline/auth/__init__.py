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

from outreach_pipeline.auth.build import build_auth
from outreach_pipeline.auth.errors import (
    AuthError,
    AuthorizationFailed,
    ReauthorizationRequired,
    TokenEndpointUnavailable,
)
from outreach_pipeline.auth.health import GrantHealth, assess_grant, assess_stored_grant
from outreach_pipeline.auth.s2s import unreachable_streams

__all__ = [
    "AuthError",
    "AuthorizationFailed",
    "GrantHealth",
    "ReauthorizationRequired",
    "TokenEndpointUnavailable",
    "assess_grant",
    "assess_stored_grant",
    "build_auth",
    "unreachable_streams",
]
