"""Configuration of one emulator instance: the OAuth app it knows, its orgs, data and limits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

RefreshMode = Literal["single_use", "lenient"]
OldAccessTokens = Literal["revoke", "keep"]
# Outreach: "minting tokens more than once a minute per user can answer 429".
DOCUMENTED_TOKEN_MINT_INTERVAL = 60.0

DEFAULT_CLIENT_ID = "emulator-client"
# Holds every character that breaks naive form encoding, so clients must encode properly.
DEFAULT_CLIENT_SECRET = "emulator-secret+&=/%"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8976/callback"
# Generated data lies before this instant (2026-01-01T00:00:00Z): fixed so that the same seed
# and scale give byte-identical records whatever day the emulator runs.
DEFAULT_DATA_EPOCH = 1767225600
# The name of the one org an emulator serves when no orgs are configured.
DEFAULT_ORG = "default"
_ORG_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class OrgSpec:
    """One emulated Outreach org: its name, its data (``seed``, ``scale``) and the hourly
    request budget of each of its users (``rate_limit``; None: the emulator's ``rate_limit``).

    Record ids are per org, as on the real API: two orgs' prospects both start at id 1.
    Its users are the records of its ``users`` stream; any of them can authorize the app.
    """

    name: str
    seed: int
    scale: int
    rate_limit: int | None = None

    def __post_init__(self) -> None:
        if not _ORG_NAME.match(self.name):
            raise ValueError(
                f"org name {self.name!r}: 1-40 of a-z, 0-9, '_' and '-', starting alphanumeric"
            )
        if self.scale < 1:
            raise ValueError("scale must be at least 1 prospect")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("an org's rate limit must be at least 1 request per hour")

    @classmethod
    def parse(cls, text: str, seed: int, scale: int) -> OrgSpec:
        """``NAME[:SCALE[:SEED[:RATE_LIMIT]]]`` (the CLI's ``--org``); ``seed`` and ``scale``
        where the text leaves them out."""
        name, *numbers = text.strip().split(":")
        if len(numbers) > 3 or not all(n.strip().isdigit() for n in numbers):
            raise ValueError(f"--org {text!r}: expected NAME[:SCALE[:SEED[:RATE_LIMIT]]]")
        values = [int(n) for n in numbers]
        return cls(
            name,
            seed=values[1] if len(values) > 1 else seed,
            scale=values[0] if values else scale,
            rate_limit=values[2] if len(values) > 2 else None,
        )


def numbered_orgs(count: int, seed: int, scale: int) -> tuple[OrgSpec, ...]:
    """``count`` orgs ``org1..orgN``: org k has seed ``seed + k - 1`` and scale ``scale // k``,
    so both their rows and their record counts differ (org1 is the single-org default's data)."""
    if count < 1:
        raise ValueError("--orgs must be at least 1")
    return tuple(OrgSpec(f"org{k}", seed + k - 1, max(1, scale // k)) for k in range(1, count + 1))


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that makes one emulator differ from another.

    ``scale`` is the number of prospects; every other stream is sized from it (see
    :mod:`outreach_emulator.population`). ``refresh_mode="lenient"`` keeps spent refresh
    tokens valid, which clients that never store the rotated token (Airbyte's) need.
    ``token_mint_interval`` is the least time between two tokens minted for one user (code
    exchange or refresh; 0 turns the limit off); a mint sooner answers 429 ``Retry later``.
    ``old_access_tokens="revoke"`` ends the access token issued with a refresh token when that
    refresh token is spent, as Doorkeeper does; ``"keep"`` lets it live out its lifetime.
    ``dev_client_id``/``dev_client_secret`` are a development-credentials pair whose grants
    expire 7 days after they are made. ``s2s_*`` enable the server-to-server token exchange
    (into the first org).

    ``orgs`` are the organisations whose users may authorize the app; empty (the default)
    means one org named ``default`` with ``seed`` and ``scale``. The first org is the default
    one: ``Emulator.data``, grants issued without an org and ``login_hint`` without one use it.
    """

    seed: int = 1
    scale: int = 2000
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT_URI,)
    dev_client_id: str | None = None
    dev_client_secret: str | None = None
    auto_consent: bool = False
    access_token_ttl: int = 7200
    refresh_mode: RefreshMode = "single_use"
    token_mint_interval: float = DOCUMENTED_TOKEN_MINT_INTERVAL
    old_access_tokens: OldAccessTokens = "revoke"
    rate_limit: int = 10_000
    # Seconds of one rate-limit window: Outreach's hour, shortened by benchmarks.
    rate_limit_window: int = 3600
    # X-RateLimit-Remaining as two values ("9999, 19988"), a form seen from the real API.
    rate_limit_two_values: bool = False
    s2s_guid: str | None = None
    s2s_public_key_pem: str | None = None
    s2s_install_id: str | None = None
    data_epoch: int = DEFAULT_DATA_EPOCH
    # Start the clock frozen at this epoch (seconds) instead of following the wall clock.
    clock_frozen_at: float | None = None
    # Serialize every record in worker processes before serving (see emulator/warmup.py).
    warm: bool = False
    orgs: tuple[OrgSpec, ...] = ()

    @property
    def org_specs(self) -> tuple[OrgSpec, ...]:
        """The orgs served, the default one first."""
        return self.orgs or (OrgSpec(DEFAULT_ORG, self.seed, self.scale),)

    def __post_init__(self) -> None:
        names = [org.name for org in self.orgs]
        if len(set(names)) != len(names):
            raise ValueError(f"org names must be unique, got {names}")
        if self.scale < 1:
            raise ValueError("scale must be at least 1 prospect")
        if self.refresh_mode not in ("single_use", "lenient"):
            raise ValueError("refresh_mode must be 'single_use' or 'lenient'")
        if self.rate_limit_window < 1:
            raise ValueError("rate_limit_window must be at least 1 second")
        if not 0 <= self.token_mint_interval <= 3600:
            raise ValueError("token_mint_interval must be 0..3600 seconds")
        if self.old_access_tokens not in ("revoke", "keep"):
            raise ValueError("old_access_tokens must be 'revoke' or 'keep'")
        if (self.dev_client_id is None) != (self.dev_client_secret is None):
            raise ValueError("dev_client_id and dev_client_secret go together")
        if not self.redirect_uris:
            raise ValueError("at least one redirect URI is needed")
