"""``build_auth(settings)``: the ``httpx.Auth`` the settings call for (S2S or the OAuth grant)."""

from __future__ import annotations

import httpx

from outreach_pipeline.auth.httpx_auth import BearerTokenAuth
from outreach_pipeline.auth.oauth import OAuthClient
from outreach_pipeline.auth.s2s import S2STokens
from outreach_pipeline.auth.token_manager import DEFAULT_REFRESH_MARGIN, TokenManager
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.retry import RetryPolicy
from outreach_pipeline.settings import CredentialKind, Settings


def oauth_client(
    settings: Settings, kind: CredentialKind | None = None, retry: RetryPolicy | None = None
) -> OAuthClient:
    """The OAuth client of the credential pair of ``kind`` (the first configured when None)."""
    return OAuthClient(
        settings.oauth_url, settings.credentials_for(kind), settings.redirect_uri, retry
    )


def build_auth(
    settings: Settings,
    refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    retry: RetryPolicy | None = None,
) -> httpx.Auth:
    """S2S when ``settings.s2s`` is set, else the stored grant (refreshed ahead of expiry and on
    401, safely across threads and processes). Nothing is read or sent until the first request;
    a missing or dead grant raises :class:`ReauthorizationRequired` then."""
    if settings.s2s is not None:
        return BearerTokenAuth(
            S2STokens(settings.s2s, settings.app_url, margin=refresh_margin, retry=retry)
        )
    manager = TokenManager(
        open_token_store(settings),
        lambda kind: oauth_client(settings, kind, retry),
        margin=refresh_margin,
        grant=settings.grant,
    )
    return BearerTokenAuth(manager)
