"""Grant health, for ``auth status`` and for alerting: is a person needed, why, since when, and
when the known expiries fall (development grants about weekly, refresh tokens 14 days after
they were issued, so a grant left idle that long dies)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from outreach_pipeline.auth.errors import TokenStoreError
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.settings import CredentialKind, Settings

DAY = 24 * 3600
REFRESH_TOKEN_LIFETIME = 14 * DAY
DEVELOPMENT_GRANT_LIFETIME = 7 * DAY
DEFAULT_WARNING_WINDOW = 2 * DAY


@dataclass(frozen=True)
class GrantHealth:
    """Times are epoch seconds; ``None`` when there is no grant or the fact does not apply."""

    stored: bool
    needs_reauthorization: bool
    reason: str | None = None
    since: float | None = None
    credential_kind: CredentialKind | None = None
    granted_at: float | None = None
    access_expires_at: float | None = None
    refresh_token_expires_at: float | None = None
    development_expires_at: float | None = None
    warnings: tuple[str, ...] = ()


def assess_grant(
    grant: Grant | None, now: float, warn_within: float = DEFAULT_WARNING_WINDOW
) -> GrantHealth:
    """The health of ``grant`` at ``now``; warnings for expiries within ``warn_within``."""
    if grant is None:
        return GrantHealth(stored=False, needs_reauthorization=True, reason="no grant is stored")
    refresh_expiry = grant.tokens_obtained_at + REFRESH_TOKEN_LIFETIME
    development_expiry = (
        grant.granted_at + DEVELOPMENT_GRANT_LIFETIME
        if grant.credential_kind == "development"
        else None
    )
    reason, since = None, None
    if grant.reauthorization is not None:
        reason, since = grant.reauthorization.reason, grant.reauthorization.since
    elif now >= refresh_expiry:
        reason, since = "the refresh token expired (14 days without a refresh)", refresh_expiry
    warnings = []
    if reason is None and refresh_expiry - now < warn_within:
        warnings.append(
            f"the refresh token expires in {duration(refresh_expiry - now)} unless a sync runs"
        )
    if reason is None and development_expiry is not None:
        if now >= development_expiry:
            warnings.append(
                "the development-credential grant is past its weekly expiry; Outreach expires "
                "it unless the user belongs to the app's own org"
            )
        elif development_expiry - now < warn_within:
            warnings.append(
                "the development-credential grant expires in about "
                f"{duration(development_expiry - now)} (weekly)"
            )
    return GrantHealth(
        stored=True,
        needs_reauthorization=reason is not None,
        reason=reason,
        since=since,
        credential_kind=grant.credential_kind,
        granted_at=grant.granted_at,
        access_expires_at=grant.access_expires_at,
        refresh_token_expires_at=refresh_expiry,
        development_expires_at=development_expiry,
        warnings=tuple(warnings),
    )


def assess_stored_grant(
    settings: Settings, now: float | None = None, warn_within: float = DEFAULT_WARNING_WINDOW
) -> GrantHealth:
    """The health of the grant in the settings' token store (what an alert sensor checks).

    An unreadable store (corrupt, wrong encryption key) needs a person as much as a dead grant,
    so it is reported as needing reauthorization with the store's error as the reason."""
    try:
        grant = open_token_store(settings).load()
    except TokenStoreError as error:
        return GrantHealth(stored=True, needs_reauthorization=True, reason=str(error))
    return assess_grant(grant, time.time() if now is None else now, warn_within)


def duration(seconds: float) -> str:
    """``93784`` -> ``"1d 2h 3m"``; under a minute, seconds (``"42s"``)."""
    if seconds < 60:
        return f"{max(0, int(seconds))}s"
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days}d"] if days else []
    if hours or days:
        parts.append(f"{hours}h")
    parts.append(f"{minutes}m")
    return " ".join(parts)
