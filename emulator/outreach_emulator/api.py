"""The REST API under ``/api/v2``: authentication, rate limit, scope checks and listings.

Listings are JSON:API collection documents built by joining the cached bytes of each record.
Paging is keyset paging: ``links.next`` carries ``page[after]=<cursor>`` where the cursor is an
opaque encoding of (sort field, direction, sort value, id) of the last record returned, so
records changed between pages are neither skipped nor repeated within one sort order.

One instance serves one org's data; the emulator routes each request to the org of the access
token it carries, so a token never reaches another org's records.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import urlencode

import orjson

from outreach_emulator.data import (
    ID_BITS,
    ID_MASK,
    INDEXED,
    Entry,
    RecordStore,
    Selection,
    UnknownRecord,
)
from outreach_emulator.faults import INJECTED_ERRORS, Faults
from outreach_emulator.filters import BadQuery, apply_filter, apply_sort
from outreach_emulator.grants import AccessToken
from outreach_emulator.messages import (
    JSONAPI,
    Request,
    Response,
    api_error,
    json_response,
)
from outreach_emulator.ratelimit import RateLimiter
from outreach_emulator.writes import write
from outreach_pipeline.catalog import Stream

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
COUNT_CAP = 2_000_000
# Offset paging is deprecated and capped at offset 10,000 (the fact sheet, [doc]).
MAX_OFFSET = 10_000
_FILTER = re.compile(r"filter\[(\w+)\](?:\[(\w+)\])?$")
_FIELDS = re.compile(r"fields\[(\w+)\]$")
_PAGE = re.compile(r"page\[(\w*)\]$")
_PAGING = {"size", "after", "offset"}


class ApiEndpoints:
    def __init__(self, store: RecordStore, limiter: RateLimiter, faults: Faults) -> None:
        self.store = store
        self.limiter = limiter
        self.faults = faults

    def handle(self, request: Request, resource_path: str, access: AccessToken | None) -> Response:
        """Answer with ``access``, the live token the request carries (None: 401)."""
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
        needed = {"GET": "read", "DELETE": "delete"}.get(request.method, "write")
        if not {f"{path}.{needed}", f"{path}.all"} & access.scopes:
            return api_error(
                403,
                "unauthorizedOauthScope",
                "Unauthorized OAuth Scope",
                f"Your OAuth token does not have the '{path}.{needed}' scope.",
            )
        try:
            if request.method != "GET":
                return write(self.store, request, stream, record_id)
            if record_id:
                return self._single(stream, record_id)
            return self._listing(request, stream)
        except BadQuery as bad:
            return api_error(
                422, "validationError", "Validation Error", bad.detail, f"/{bad.parameter}"
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
        selection, count = self._selection(request, stream)
        fields = _sparse_fields(request, self.store)
        included = _includes(request, stream, self.store)
        limit = self.faults.page_size_limit(stream.path)
        if limit is not None and selection.size > limit:
            return INJECTED_ERRORS[502]()
        table = self.store.table(stream.path)
        picked, more = table.select(selection)
        ids = self.faults.shuffled([record_id for record_id, _ in picked])
        # A record deleted since the selection is left out, as a live API would.
        own = fields.get(stream.jsonapi_type)
        parts = [part for i in ids if (part := self._rendered(stream, i, own)) is not None]
        document = [b'{"data":[', b",".join(parts), b"]"]
        if included:
            linked = self._included(stream, ids, included, fields)
            document += [b',"included":[', b",".join(linked), b"]"]
        if picked:
            links = {"first": self._url(request, stream, None)}
            if more and request.param("page[offset]") is not None:
                step = selection.offset + selection.size
                if step <= MAX_OFFSET:
                    links["next"] = self._url(request, stream, None, ("page[offset]", str(step)))
            elif more:
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

    def _included(
        self,
        stream: Stream,
        ids: list[int],
        paths: list[list[str]],
        fields: dict[str, frozenset[str]],
    ) -> list[bytes]:
        """The ``included`` resources: each record linked along each ``include`` path, once."""
        seen: dict[tuple[str, int], bytes] = {}
        for path in paths:
            frontier = [(stream, i) for i in ids]
            for rel in path:
                reached = []
                for source, record_id in frontier:
                    for kind, target in self.store.linked(source.path, record_id, rel):
                        target_path = self.store.path_of_type.get(kind)
                        if target_path is None:
                            continue  # a type the emulator does not serve
                        target_stream = self.store.streams[target_path]
                        reached.append((target_stream, target))
                        if (kind, target) not in seen:
                            part = self._rendered(target_stream, target, fields.get(kind))
                            if part is not None:
                                seen[kind, target] = part
                frontier = reached
        return list(seen.values())

    def _url(
        self,
        request: Request,
        stream: Stream,
        cursor: str | None,
        replaced: tuple[str, str] | None = None,
    ) -> str:
        """This listing's URL with its ``page[after]`` (or ``replaced``'s parameter) set or
        dropped, other params kept."""
        name = replaced[0] if replaced else "page[after]"
        params = [(k, v) for k, v in request.query if k != name]
        if replaced is not None:
            params.append(replaced)
        if cursor is not None:
            params.append(("page[after]", cursor))
        query = urlencode(params, safe="[],:")
        return f"{self.store.api_url}/{stream.path}" + (f"?{query}" if query else "")

    # -- parsing the query -----------------------------------------------------------------

    def _selection(self, request: Request, stream: Stream) -> tuple[Selection, bool]:
        selection = Selection(size=_page_size(request.param("page[size]")))
        _check_paging(request)
        apply_sort(selection, stream, request.param("sort") or "id")
        for key, value in request.query:
            if match := _FILTER.match(key):
                apply_filter(
                    selection, self.store, stream, key, match.group(1), match.group(2), value
                )
        if self.faults.settings.ignore_upper_bound:
            selection.ranges = {
                name: (low, high if name == "id" else None)
                for name, (low, high) in selection.ranges.items()
            }
        after = request.param("page[after]")
        if after is not None:
            selection.after = _decode_cursor(after, selection)
        selection.offset = _offset(request.param("page[offset]"))
        count = (request.param("count") or "false").lower() == "true"
        return selection, count


def _page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError as error:
        raise BadQuery("page[size]", "page[size] must be an integer.") from error
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadQuery("page[size]", f"page[size] must be between 1 and {MAX_PAGE_SIZE}.")
    return size


def _check_paging(request: Request) -> None:
    """Offset paging is emulated (deprecated, capped); other paging parameters are refused, so
    a client paging by ``page[number]`` learns it at once instead of reading page 1 for ever."""
    for key, _ in request.query:
        match = _PAGE.match(key)
        if match and match.group(1) not in _PAGING:
            raise BadQuery(key, f"Unknown paging parameter {key!r}; page with links.next.")
    if request.param("page[offset]") is not None and request.param("page[after]") is not None:
        raise BadQuery("page[offset]", "page[offset] cannot be combined with page[after].")


def _offset(raw: str | None) -> int:
    if raw is None:
        return 0
    if not raw.isdigit() or int(raw) > MAX_OFFSET:
        raise BadQuery("page[offset]", f"page[offset] must be between 0 and {MAX_OFFSET}.")
    return int(raw)


def _sparse_fields(request: Request, store: RecordStore) -> dict[str, frozenset[str]]:
    """``fields[type]=a,b`` by JSON:API type, checked against that type's attributes and
    relationships."""
    chosen = {}
    for key, raw in request.query:
        match = _FIELDS.match(key)
        if not match:
            continue
        path = store.path_of_type.get(match.group(1))
        if path is None:
            raise BadQuery(key, f"Unknown type {match.group(1)!r}.")
        stream = store.streams[path]
        names = frozenset(n.strip() for n in raw.split(",") if n.strip())
        known = {"id", *stream.attributes, *stream.to_one, *stream.to_many, *stream.links_only}
        unknown = sorted(names - known)
        if unknown:
            raise BadQuery(key, f"Unknown fields {unknown}.")
        chosen[stream.jsonapi_type] = names
    return chosen


def _includes(request: Request, stream: Stream, store: RecordStore) -> list[list[str]]:
    """``include=account,owner.mailbox`` as relationship paths, each step checked."""
    raw = request.param("include")
    if not raw:
        return []
    paths = []
    for dotted in raw.split(","):
        source, path = stream, dotted.strip().split(".")
        for rel in path:
            target = source.to_one.get(rel) or source.to_many.get(rel)
            target_path = store.path_of_type.get(target or "")
            if target is None:
                raise BadQuery("include", f"{source.path} has no relationship {rel!r} to include.")
            if target_path is not None:
                source = store.streams[target_path]
        paths.append(path)
    return paths


def _encode_cursor(selection: Selection, entry: Entry) -> str:
    position = list(entry) if isinstance(entry, tuple) else [entry >> ID_BITS, entry & ID_MASK]
    raw = orjson.dumps([selection.sort_field, selection.descending, *position])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode_cursor(cursor: str, selection: Selection) -> Entry:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_field, descending, *position = orjson.loads(raw)
        if sort_field in INDEXED:
            key, record_id = position
            composite: Entry = (int(key) << ID_BITS) | int(record_id)
        else:
            composite = tuple(position)
    except (ValueError, TypeError, binascii.Error) as error:
        raise BadQuery("page[after]", "The page cursor is invalid.") from error
    if sort_field != selection.sort_field or descending != selection.descending:
        raise BadQuery("page[after]", "The page cursor belongs to another sort order.")
    return composite
