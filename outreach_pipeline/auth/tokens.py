"""What the httpx auth needs from a source of bearer tokens (OAuth grant or S2S)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn, Protocol

from outreach_pipeline.settings import Secret


@dataclass(frozen=True)
class Renewal:
    """A token to retry with; ``fresh`` when it was just obtained from the server for this
    retry (a 401 to a fresh token means the grant itself is refused)."""

    token: Secret = field(repr=False)
    fresh: bool


class TokenSource(Protocol):
    def current(self) -> Secret:
        """A token believed valid (renewed ahead of expiry)."""
        ...

    def renew(self, rejected: Secret, force: bool) -> Renewal:
        """A token to replace ``rejected`` after a 401; with ``force``, a new one from the
        server even when another thread or process already replaced ``rejected``."""
        ...

    def refused_after_renewal(self) -> NoReturn:
        """The API refused a fresh token: record that and raise."""
        ...
