"""The stored OAuth grant as a :class:`TokenSource`: proactive and 401-driven refresh.

Refreshes happen under the store's lock (threads and processes). Whoever gets the lock first
re-reads the store: if another thread or process already replaced the token it was about to
replace, it takes that one instead of spending the refresh token again, which under Outreach's
(assumed) single-use refresh tokens would get ``invalid_grant`` and kill the grant. The rotated
refresh token is saved before the new access token is handed out, and nothing is saved from
an answer that cannot be used as a whole; except its refresh token, when it carried a usable new
one: the old one was spent by that refresh, so keeping it would lose the grant.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import NoReturn

from outreach_pipeline.auth.errors import (
    ReauthorizationRequired,
    TokenEndpointUnavailable,
    TokenRequestRefused,
    UnexpectedTokenAnswer,
    login_command,
)
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.oauth import OAuthClient
from outreach_pipeline.auth.token_store import TokenStore
from outreach_pipeline.auth.tokens import Renewal
from outreach_pipeline.settings import DEFAULT_GRANT, CredentialKind, Secret

log = logging.getLogger(__name__)

DEFAULT_REFRESH_MARGIN = 300.0
# Tokens living shorter than the margin allows are refreshed when this share of life is left.
SHORT_LIFETIME_SHARE = 0.25


class TokenManager:
    """Access tokens of the grant in ``store``, refreshed when less than ``margin`` seconds
    (or a quarter of a short lifetime) remain; the grant is cached and re-read only to refresh."""

    def __init__(
        self,
        store: TokenStore,
        oauth_for: Callable[[CredentialKind], OAuthClient],
        margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
        grant: str = DEFAULT_GRANT,
    ) -> None:
        self.store = store
        self.grant = grant  # its name, for the login command a reauthorization error names
        self.oauth_for = oauth_for
        self.margin = margin
        self.clock = clock
        self._cache_lock = threading.Lock()
        self._grant: Grant | None = None
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"TokenManager({self.store!r}, margin={self.margin})"

    def current(self) -> Secret:
        with self._cache_lock:
            grant = self._grant
        if grant is None:
            grant = self._remember(self._load())
        if self._due(grant):
            try:
                grant, _ = self._replace(grant.access_token, force=False)
            except (TokenEndpointUnavailable, UnexpectedTokenAnswer) as error:
                if self.clock() >= grant.access_expires_at:
                    raise
                log.warning("early refresh failed, the current token still serves: %s", error)
        return grant.access_token

    def renew(self, rejected: Secret, force: bool) -> Renewal:
        grant, fresh = self._replace(rejected, force)
        return Renewal(grant.access_token, fresh)

    def refused_after_renewal(self) -> NoReturn:
        self._mark("the API refused a freshly refreshed access token (HTTP 401)")

    def _load(self) -> Grant:
        grant = self.store.load()
        if grant is None:
            raise ReauthorizationRequired("no Outreach grant is stored", self.grant)
        if grant.reauthorization is not None:
            raise ReauthorizationRequired(grant.reauthorization.reason, self.grant)
        return grant

    def _remember(self, grant: Grant) -> Grant:
        with self._cache_lock:
            self._grant = grant
        return grant

    def _due(self, grant: Grant) -> bool:
        """Whether the access token is close enough to its expiry to refresh now."""
        lifetime = grant.access_expires_at - grant.tokens_obtained_at
        margin = min(self.margin, lifetime * SHORT_LIFETIME_SHARE)
        return self.clock() >= grant.access_expires_at - margin

    def _replace(self, stale: Secret, force: bool) -> tuple[Grant, bool]:
        """(grant, refreshed here): the stored grant when another thread or process already
        replaced ``stale`` with a token that is not due (unless ``force``), else a refresh."""
        with self.store.lock():
            grant = self._load()
            if grant.access_token != stale and not force and not self._due(grant):
                return self._remember(grant), False
            return self._remember(self._refresh(grant)), True

    def _refresh(self, grant: Grant) -> Grant:
        try:
            response = self.oauth_for(grant.credential_kind).refresh(grant.refresh_token)
        except TokenRequestRefused as refusal:
            self._mark_locked(grant, f"the token endpoint refused the refresh ({refusal})")
        except UnexpectedTokenAnswer as unusable:
            if unusable.rotated_refresh_token is None:
                raise
            self.store.save(replace(grant, refresh_token=unusable.rotated_refresh_token))
            with self._cache_lock:
                self._grant = None
            raise UnexpectedTokenAnswer(
                unusable.problem,
                "its new refresh token was saved in place of the one it spent, so the grant "
                "lives on: sync again later; if it fails the same way, run "
                f"`{login_command(self.grant)}`",
            ) from None
        refreshed = grant.refreshed(response, self.clock())
        self.store.save(refreshed)
        self.refreshes += 1
        log.info("refreshed the Outreach access token (%s credentials)", grant.credential_kind)
        return refreshed

    def _mark(self, reason: str) -> NoReturn:
        with self.store.lock():
            grant = self.store.load()
            if grant is None:
                raise ReauthorizationRequired("no Outreach grant is stored", self.grant)
            self._mark_locked(grant, reason)

    def _mark_locked(self, grant: Grant, reason: str) -> NoReturn:
        self.store.save(grant.needing_reauthorization(reason, self.clock()))
        with self._cache_lock:
            self._grant = None
        # Said once, by the error raised (a warning too would print it twice on the command line).
        log.info("the Outreach grant needs reauthorization: %s", reason)
        raise ReauthorizationRequired(reason, self.grant)
