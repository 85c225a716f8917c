"""Reading one JSON:API collection document: its resources and the link to the next page.

The checks here are about the document's shape only; what a resource's attributes hold is the
landing's business (:mod:`outreach_pipeline.landing.records`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


class MalformedDocument(ValueError):
    """The body is not a JSON:API collection document; the message says what is wrong."""


@dataclass(frozen=True)
class Document:
    resources: list[dict[str, Any]]
    next_url: str | None
    # ``meta.count``, the size of the whole listing, when the API reports it.
    count: int | None = None


def parse_document(body: bytes) -> Document:
    """``{"data": [...], "links": {"next": ...}}`` -> resources and the next page's URL."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedDocument(f"body is not valid JSON ({error})") from None
    if not isinstance(parsed, dict):
        raise MalformedDocument(f"document is a JSON {type(parsed).__name__}, not an object")
    if "data" not in parsed:
        raise MalformedDocument("document has no 'data' member")
    data = parsed["data"]
    if not isinstance(data, list):
        raise MalformedDocument(f"'data' is a JSON {type(data).__name__}, not a list")
    for index, resource in enumerate(data):
        if not isinstance(resource, dict) or "id" not in resource:
            raise MalformedDocument(f"data[{index}] is not a resource object with an id")
    links = parsed.get("links")
    next_url = links.get("next") if isinstance(links, dict) else None
    if next_url is not None and not isinstance(next_url, str):
        raise MalformedDocument("'links.next' is not a string")
    meta = parsed.get("meta")
    count = meta.get("count") if isinstance(meta, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        count = None
    return Document(resources=data, next_url=next_url or None, count=count)
