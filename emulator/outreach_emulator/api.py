"""The REST API under ``/api/v2``: authentication, rate limit, scope checks and listings.

Listings are JSON:API collection documents built by joining the cached bytes of each record.
Paging is keyset paging: ``links.next`` carries ``page[after]=<cursor>`` where the cursor is an
opaque encoding of (sort field, direction, sort value, id) of the last record returned, so
records changed between pages are neither skipped nor repeated within one sort order.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson

from outreach_emulator.data import (
    ID_BITS,
    ID_MASK,
    SORTABLE,
    RecordStore,
    Selection,
    UnknownRecord,
)
from outreach_emulator.faults import INJECTED_ERRORS, Faults
from outreach_emulator.grants import AccessToken, Grants
from outreach_emulator.messages import (
    JSONAPI,
    Request,
    Response,
    api_error,
    json_response,
)
from outreach_emulator.ratelimit import RateLimiter
from outreach_pipeline.catalog import Stream

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
COUNT_CAP = 2_000_000
_NEW_SYNTAX = {"gte": 0, "gt": 0, "lte": 1, "lt": 1}
_FILTER = re.compile(r"filter\[(\w+)\](?:\[(\w+)\])?$")
_FIELDS = re.compile(r"fields\[(\w+)\]$")


class BadRequest(Exception):
    """A query the API refuses with 400 ``validationError``; carries the offending parameter."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(detail)
        self.parameter = parameter
        self.detail = detail


class ApiEndpoints:
    def __init__(
        self, store: RecordStore, grants: Grants, limiter: RateLimiter, faults: Faults
    ) -> None:
        self.store = store
        self.grants = grants
        self.limiter = limiter
        self.faults = faults

    def handle(self, request: Request, resource_path: str) -> Response:
        access = self.grants.access(request.bearer() or "")
        if access is None:
            return json_response(
                401,
                {
                    "error": "Invalid JWT token.",
                    "description": "The access token is invalid, expired or revoked.",
                },
            )
        allowed, rate_headers = self.limiter.spend(access.rate_key)
        if allowed:
            response = self._route(request, resource_path, access)
        else:
            response = api_error(
                429, "rateLimitExceeded", "Rate Limit Exceeded", self.limiter.exceeded_detail()
            )
        response.headers.extend(rate_headers)
        return response

    def _route(self, request: Request, resource_path: str, access: AccessToken) -> Response:
        path, _, record_id = resource_path.strip("/").partition("/")
        stream = self.store.streams.get(path)
        if stream is None or "/" in record_id:
            return api_error(404, "resourceNotFound", "Resource Not Found", "No such resource.")
        if not {f"{path}.read", f"{path}.all"} & access.scopes:
            return api_error(
                403,
                "unauthorizedOauthScope",
                "Unauthorized OAuth Scope",
                f"Your OAuth token does not have the '{path}.read' scope.",
            )
        if request.method != "GET":
            return api_error(
                405, "methodNotAllowed", "Method Not Allowed", "The emulator only reads."
            )
        try:
            if record_id:
                return self._single(stream, record_id)
            return self._listing(request, stream)
        except BadRequest as bad:
            return api_error(
                400, "validationError", "Validation Error", bad.detail, f"/{bad.parameter}"
            )

    def _single(self, stream: Stream, record_id: str) -> Response:
        try:
            body = self.store.resource_bytes(stream.path, int(record_id))
        except (ValueError, UnknownRecord):
            return api_error(
                404, "resourceNotFound", "Resource Not Found", f"No {stream.jsonapi_type} found."
            )
        return Response(200, b'{"data":' + body + b"}", JSONAPI, records=1)

    def _listing(self, request: Request, stream: Stream) -> Response:
        selection, count, fields = self._selection(request, stream)
        limit = self.faults.page_size_limit(stream.path)
        if limit is not None and selection.size > limit:
            return INJECTED_ERRORS[502]()
        table = self.store.table(stream.path)
        picked, more = table.select(selection)
        ids = self.faults.shuffled([record_id for record_id, _ in picked])
        # A record deleted since the selection is left out, as a live API would.
        parts = [part for i in ids if (part := self._rendered(stream, i, fields)) is not None]
        document = [b'{"data":[', b",".join(parts), b"]"]
        if picked:
            links = {"first": self._url(request, stream, None)}
            if more:
                cursor = _encode_cursor(selection, picked[-1][1])
                links["next"] = self._url(request, stream, cursor)
            document += [b',"links":', orjson.dumps(links)]
        meta: dict[str, Any] = {}
        if count:
            total = table.count(selection)
            meta = {"count": min(total, COUNT_CAP), "count_truncated": total > COUNT_CAP}
        document += [b',"meta":', orjson.dumps(meta), b"}"]
        return Response(200, b"".join(document), JSONAPI, records=len(parts))

    def _rendered(
        self, stream: Stream, record_id: int, fields: frozenset[str] | None
    ) -> bytes | None:
        """The record's bytes (sparse when ``fields`` says so); None if it is gone."""
        if fields is not None and fields <= {"id"}:
            if not self.store.table(stream.path).exists(record_id):
                return None
            # Cheap on purpose: id-only listings are how deletes are found, over whole streams.
            return orjson.dumps(
                {
                    "type": stream.jsonapi_type,
                    "id": record_id,
                    "links": {"self": f"{self.store.api_url}/{stream.path}/{record_id}"},
                }
            )
        try:
            serialized = self.store.resource_bytes(stream.path, record_id)
        except UnknownRecord:
            return None
        if fields is None:
            return serialized
        full = orjson.loads(serialized)
        full["attributes"] = {k: v for k, v in full["attributes"].items() if k in fields}
        full["relationships"] = {k: v for k, v in full["relationships"].items() if k in fields}
        return orjson.dumps(full)

    def _url(self, request: Request, stream: Stream, cursor: str | None) -> str:
        """This listing's URL with ``page[after]`` replaced (or dropped), other params kept."""
        params = [(k, v) for k, v in request.query if k != "page[after]"]
        if cursor is not None:
            params.append(("page[after]", cursor))
        query = urlencode(params, safe="[],:")
        return f"{self.store.api_url}/{stream.path}" + (f"?{query}" if query else "")

    # -- parsing the query -----------------------------------------------------------------

    def _selection(
        self, request: Request, stream: Stream
    ) -> tuple[Selection, bool, frozenset[str] | None]:
        selection = Selection(size=_page_size(request.param("page[size]")))
        sort = request.param("sort") or "id"
        primary, *tie_breakers = sort.split(",")
        selection.descending = primary.startswith("-")
        selection.sort_field = primary.lstrip("-")
        # Ties are always broken by id, so "updatedAt,id" means the same as "updatedAt".
        if (
            selection.sort_field not in SORTABLE
            or not _has(stream, selection.sort_field)
            or any(key.lstrip("-") != "id" for key in tie_breakers)
        ):
            raise BadRequest("sort", f"{stream.path} cannot be sorted by {sort!r}.")
        for key, value in request.query:
            if match := _FILTER.match(key):
                self._filter(selection, stream, match.group(1), match.group(2), value, key)
        after = request.param("page[after]")
        if after is not None:
            selection.after = _decode_cursor(after, selection)
        count = (request.param("count") or "false").lower() == "true"
        fields = request.param(f"fields[{stream.jsonapi_type}]")
        return selection, count, _fields(stream, fields) if fields is not None else None

    def _filter(
        self,
        selection: Selection,
        stream: Stream,
        name: str,
        operator: str | None,
        value: str,
        key: str,
    ) -> None:
        if name in stream.to_one and operator == "id":
            try:
                targets = frozenset(int(v) for v in value.split(","))
            except ValueError as error:
                raise BadRequest(key, f"filter[{name}][id] takes integer ids.") from error
            related = self.store.related_ids(stream.path, name, targets)
            selection.ids = related if selection.ids is None else selection.ids & related
            return
        if name not in SORTABLE or not _has(stream, name):
            raise BadRequest(key, f"{stream.path} cannot be filtered by {name!r}.")
        if operator is not None and operator not in _NEW_SYNTAX:
            raise BadRequest(key, f"Unknown filter operator {operator!r}.")
        if name == "id" and operator is None and ".." not in value:
            try:
                listed = frozenset(int(v) for v in value.split(","))
            except ValueError as error:
                raise BadRequest(key, "filter[id] takes integer ids.") from error
            selection.ids = listed if selection.ids is None else selection.ids & listed
            return
        parse = _int_value if name == "id" else _timestamp_ms
        low, high = selection.ranges.get(name, (None, None))
        try:
            if operator is None:
                first, _, last = value.partition("..") if ".." in value else (value, "", value)
                low = None if first in ("", "neginf") else parse(first)
                high = None if last in ("", "inf") else parse(last)
            else:
                bound = parse(value)
                strict = operator in ("gt", "lt")
                if _NEW_SYNTAX[operator] == 0:
                    low = bound + 1 if strict else bound
                else:
                    high = bound - 1 if strict else bound
        except ValueError as error:
            raise BadRequest(key, f"Cannot read {value!r} as a range of {name}.") from error
        if name != "id" and self.faults.settings.ignore_upper_bound:
            high = None
        selection.ranges[name] = (low, high)


def _has(stream: Stream, name: str) -> bool:
    return name == "id" or name in stream.attributes


def _page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError as error:
        raise BadRequest("page[size]", "page[size] must be an integer.") from error
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadRequest("page[size]", f"page[size] must be between 1 and {MAX_PAGE_SIZE}.")
    return size


def _fields(stream: Stream, raw: str) -> frozenset[str]:
    names = frozenset(n.strip() for n in raw.split(",") if n.strip())
    known = {"id", *stream.attributes, *stream.to_one, *stream.to_many, *stream.links_only}
    unknown = sorted(names - known)
    if unknown:
        raise BadRequest(f"fields[{stream.jsonapi_type}]", f"Unknown fields {unknown}.")
    return names


def _int_value(text: str) -> int:
    return int(text)


def _timestamp_ms(text: str) -> int:
    moment = datetime.fromisoformat(text.strip().replace(" ", "+"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _encode_cursor(selection: Selection, composite: int) -> str:
    key, record_id = composite >> ID_BITS, composite & ID_MASK
    raw = orjson.dumps([selection.sort_field, selection.descending, key, record_id])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode_cursor(cursor: str, selection: Selection) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_field, descending, key, record_id = orjson.loads(raw)
        composite = (int(key) << ID_BITS) | int(record_id)
    except (ValueError, TypeError, binascii.Error) as error:
        raise BadRequest("page[after]", "The page cursor is invalid.") from error
    if sort_field != selection.sort_field or descending != selection.descending:
        raise BadRequest("page[after]", "The page cursor belongs to another sort order.")
    return composite
