"""Requests authorized by a token the emulator issued directly (``grants.issue``), skipping the
OAuth flow: for tests, tools and benchmarks that check or measure something other than auth
(the pipeline's own auth refreshes tokens; this one never does)."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING

import httpx

from outreach_pipeline.catalog import Stream, catalog, scopes_for

if TYPE_CHECKING:
    from outreach_emulator.service import Emulator


class BearerAuth(httpx.Auth):
    """A fixed access token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def bearer_auth(emulator: Emulator, streams: Iterable[Stream] | None = None) -> BearerAuth:
    """A token the emulator issued with the read scopes of ``streams`` (default: all)."""
    chosen = list(streams) if streams is not None else list(catalog().values())
    return BearerAuth(emulator.grants.issue(scopes_for(chosen))["access_token"])
