"""Failures the client reports after its retries are spent."""

from __future__ import annotations

from outreach_pipeline.transport import Interrupted

__all__ = ["ApiUnusable", "FetchError", "Interrupted", "RetryableResponse"]


class FetchError(Exception):
    """A page could not be fetched or read; names the URL (never the token) and the problem."""

    def __init__(self, url: str, problem: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem
        self.status = status


class RetryableResponse(Exception):
    """An answer worth asking again for (5xx, 429, an unreadable body); ``wait`` if known."""

    def __init__(self, url: str, problem: str, status: int | None, wait: float | None = None):
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem
        self.status = status
        self.wait = wait


class ApiUnusable(FetchError):
    """The API URL cannot be what was meant: its host refused the connection (or has no
    address) before any answer came, or it answered 404 before any page was read. Asking
    again, or for another stream, would only repeat it: the whole run stops, naming the
    setting."""
