"""Writes under ``/api/v2``: the documented refusals, then the change itself on the store.

Emulated: 415 ``unsupportedMediaType`` for a body that is not ``application/vnd.api+json``,
the ``write``/``delete`` scopes (403, checked by the caller), 422 ``validationError`` for a
document of the wrong shape or type, an unknown or read-only attribute or an unknown
relationship; then POST creates (201), PATCH updates (200), DELETE removes (204). Out of
scope: required attributes and per-field validation, side effects of a write on other records
(a new prospect gets no email address records), actions (``/actions/...``) and bulk endpoints.
"""

from __future__ import annotations

from typing import Any

import orjson

from outreach_emulator.api_facts import facts_of
from outreach_emulator.data import RecordStore, UnknownRecord
from outreach_emulator.filters import BadQuery
from outreach_emulator.messages import JSONAPI, Request, Response, api_error
from outreach_pipeline.catalog import Stream

_ALLOWED = {False: "POST", True: "PATCH, DELETE"}


def write(store: RecordStore, request: Request, stream: Stream, record_id: str) -> Response:
    single = bool(record_id)
    if request.method not in _ALLOWED[single]:
        response = api_error(
            405, "methodNotAllowed", "Method Not Allowed", f"{request.method} is not allowed here."
        )
        response.headers.append(("Allow", "GET, " + _ALLOWED[single]))
        return response
    try:
        target = int(record_id) if single else 0
        if single and not store.table(stream.path).exists(target):
            raise UnknownRecord(record_id)
    except (ValueError, UnknownRecord):
        return api_error(
            404, "resourceNotFound", "Resource Not Found", f"No {stream.jsonapi_type} found."
        )
    if request.method == "DELETE":
        store.delete(stream.path, target)
        return Response(204, b"", None)
    media_type = request.headers.get("Content-Type", "").split(";")[0].strip()
    if media_type != JSONAPI:
        return api_error(
            415,
            "unsupportedMediaType",
            "Unsupported Media Type",
            f"Requests with a body must be sent as {JSONAPI}.",
        )
    attributes, relationships = _document(request, stream, target)
    try:
        if single:
            resource = store.update(stream.path, target, attributes, relationships)
        else:
            resource = store.create(stream.path, attributes, relationships)
    except (ValueError, TypeError) as error:
        raise BadQuery("data", str(error)) from error
    body = orjson.dumps({"data": resource})
    return Response(200 if single else 201, body, JSONAPI, records=1)


def _document(
    request: Request, stream: Stream, record_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        data = request.json().get("data")
    except (ValueError, AttributeError) as error:
        raise BadQuery("data", "The body is not a JSON:API document.") from error
    if not isinstance(data, dict) or data.get("type") != stream.jsonapi_type:
        raise BadQuery("data/type", f"data.type must be {stream.jsonapi_type!r}.")
    if record_id and data.get("id") != record_id:
        raise BadQuery("data/id", f"data.id must be {record_id}.")
    attributes = data.get("attributes") or {}
    relationships = data.get("relationships") or {}
    if not isinstance(attributes, dict) or not isinstance(relationships, dict):
        raise BadQuery("data", "attributes and relationships must be objects.")
    facts = facts_of(stream.path).attributes
    readonly = sorted(n for n in attributes if n in facts and facts[n].readonly)
    if readonly:
        raise BadQuery(f"data/attributes/{readonly[0]}", f"Read-only attributes {readonly}.")
    return attributes, relationships
