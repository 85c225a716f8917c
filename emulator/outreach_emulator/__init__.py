"""A faithful emulator of the Outreach API (OAuth, S2S tokens and REST) for tests and demos.

Layout: ``config`` (EmulatorConfig), ``clock`` (test clock), ``population``/``records``/
``attributes``/``fake`` (deterministic data), ``api_facts`` (what the OpenAPI says of each
attribute), ``reverse_links`` (to-many lists that are the other side of another stream's link),
``data`` (record store and queries), ``filters`` (filter and sort parameters),
``grants`` (OAuth state), ``oauth`` / ``s2s`` / ``api`` / ``writes`` / ``admin`` (endpoints),
``ratelimit``, ``orgs`` (each org's data, users and rate limiter),
``faults``, ``stats``, ``server`` (HTTP), ``service`` (the Emulator tying them together) and
``bearer`` (an httpx auth with a token the emulator issued, skipping OAuth).
"""

from outreach_emulator.bearer import BearerAuth, bearer_auth
from outreach_emulator.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    DOCUMENTED_TOKEN_MINT_INTERVAL,
    EmulatorConfig,
    OrgSpec,
    numbered_orgs,
)
from outreach_emulator.latency import LATENCY_PROFILES
from outreach_emulator.service import Emulator

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REDIRECT_URI",
    "DOCUMENTED_TOKEN_MINT_INTERVAL",
    "LATENCY_PROFILES",
    "BearerAuth",
    "Emulator",
    "EmulatorConfig",
    "OrgSpec",
    "bearer_auth",
    "numbered_orgs",
]
