"""The request and response values passed between the HTTP server and the endpoint handlers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

JSONAPI = "application/vnd.api+json"


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes = b""

    def param(self, name: str) -> str | None:
        """The last value of a query parameter (clients sometimes repeat one)."""
        value = None
        for key, item in self.query:
            if key == name:
                value = item
        return value

    def form(self) -> dict[str, str]:
        """The form-encoded body, decoded properly (``+``, ``%2B``, ``&`` in values...)."""
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body.strip() else {}

    def bearer(self) -> str | None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Set by the API when the body lists records, for the statistics.
    records: int = 0
    # Faults: close the connection without answering, or after part of the body.
    drop: bool = False
    truncate: bool = False


def json_response(
    status: int, payload: Any, content_type: str = "application/json", headers: Iterable = ()
) -> Response:
    return Response(status, orjson.dumps(payload), content_type, list(headers))


def api_error(
    status: int, error_id: str, title: str, detail: str, pointer: str | None = None
) -> Response:
    """A JSON:API error document as the Outreach API sends it."""
    error: dict[str, Any] = {"id": error_id, "title": title, "detail": detail}
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    return json_response(status, {"errors": [error]}, JSONAPI)


def text_response(status: int, text: str, content_type: str = "text/plain") -> Response:
    return Response(status, text.encode(), f"{content_type}; charset=utf-8")


def redirect(location: str) -> Response:
    return Response(302, b"", None, [("Location", location)])
