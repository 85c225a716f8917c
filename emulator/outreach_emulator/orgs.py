"""The emulated orgs: each one's data, users and per-user request budget.

An Outreach app is authorized by users of many orgs; a token only ever reaches the data of
the org its user belongs to, record ids are per org (two orgs both have a prospect 1), and the
request limit is per user, so each org keeps its own :class:`RateLimiter` keyed by user.
"""

from __future__ import annotations

from outreach_emulator.clock import Clock
from outreach_emulator.config import EmulatorConfig, OrgSpec
from outreach_emulator.data import RecordStore
from outreach_emulator.ratelimit import RateLimiter


class Org:
    def __init__(self, spec: OrgSpec, config: EmulatorConfig, clock: Clock) -> None:
        self.spec = spec
        self.name = spec.name
        self.data = RecordStore(spec.seed, spec.scale, config.data_epoch, clock)
        limit = spec.rate_limit if spec.rate_limit is not None else config.rate_limit
        self.rate_limiter = RateLimiter(
            limit, clock, config.rate_limit_two_values, config.rate_limit_window
        )

    def has_user(self, user_id: int) -> bool:
        """Whether ``user_id`` is one of this org's users (a live record of its users stream)."""
        return self.data.table("users").exists(user_id)

    def user_ids(self) -> list[int]:
        return self.data.ids("users")
