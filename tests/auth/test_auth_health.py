"""Grant health: the needs-reauthorization flag with reason and time, and the expiry ETAs."""

from __future__ import annotations

from pathlib import Path

from outreach_pipeline.auth import assess_grant, assess_stored_grant
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.health import DAY, duration
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.settings import CredentialKind, Secret, Settings

GRANTED = 1_800_000_000.0


def grant(kind: CredentialKind = "production", refreshed_at: float | None = None) -> Grant:
    return Grant(
        access_token=Secret("a"),
        access_expires_at=GRANTED + 7200,
        refresh_token=Secret("r"),
        scopes=("users.read",),
        credential_kind=kind,
        granted_at=GRANTED,
        refreshed_at=refreshed_at,
    )


def test_no_grant_needs_a_login() -> None:
    health = assess_grant(None, GRANTED)
    assert not health.stored and health.needs_reauthorization
    assert health.reason == "no grant is stored"


def test_a_fresh_production_grant_is_healthy() -> None:
    health = assess_grant(grant(), GRANTED + 60)
    assert health.stored and not health.needs_reauthorization and health.warnings == ()
    assert health.development_expires_at is None
    assert health.refresh_token_expires_at == GRANTED + 14 * DAY


def test_a_marked_grant_reports_reason_and_since() -> None:
    marked = grant().needing_reauthorization("invalid_grant: revoked", GRANTED + 100)
    health = assess_grant(marked, GRANTED + 200)
    assert health.needs_reauthorization
    assert (health.reason, health.since) == ("invalid_grant: revoked", GRANTED + 100)


def test_development_grants_warn_before_the_weekly_expiry() -> None:
    development = grant("development", refreshed_at=GRANTED + 5 * DAY)
    assert assess_grant(development, GRANTED + DAY).warnings == ()
    health = assess_grant(development, GRANTED + 6 * DAY)
    assert health.development_expires_at == GRANTED + 7 * DAY
    assert health.warnings == (
        "the development-credential grant expires in about 1d 0h 0m (weekly)",
    )
    late = assess_grant(development, GRANTED + 8 * DAY)
    assert not late.needs_reauthorization and "past its weekly expiry" in late.warnings[0]


def test_an_idle_refresh_token_expires_after_14_days() -> None:
    idle = grant(refreshed_at=GRANTED + DAY)
    assert "refresh token expires in 1d" in assess_grant(idle, GRANTED + 14 * DAY).warnings[0]
    dead = assess_grant(idle, GRANTED + 16 * DAY)
    assert dead.needs_reauthorization and dead.since == GRANTED + 15 * DAY
    assert dead.reason is not None and "14 days" in dead.reason


def test_durations_read_well() -> None:
    assert duration(93784) == "1d 2h 3m"
    assert duration(59.9) == "59s"
    assert duration(-3) == "0s"
    assert duration(3600) == "1h 0m"


def test_the_stored_grant_is_checked_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(token_store_path=tmp_path / "grant.json")
    assert assess_stored_grant(settings).reason == "no grant is stored"
    open_token_store(settings).save(grant("development"))
    health = assess_stored_grant(settings, now=GRANTED + 60)
    assert health.stored and not health.needs_reauthorization
    assert health.development_expires_at == GRANTED + 7 * DAY
    (tmp_path / "grant.json").write_text("garbage")
    broken = assess_stored_grant(settings)
    assert broken.needs_reauthorization and "not a readable grant" in (broken.reason or "")
