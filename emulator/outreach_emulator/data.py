"""The record store: generated records plus the changes tests make, queried like the real API.

Per stream only two integer arrays (createdAt and updatedAt in epoch milliseconds) are built
up front; record contents are generated on first request (:mod:`records`) and kept as
serialized JSON bytes, so a page is a join of cached bytes. A change drops the cached bytes of
the records it touches.
"""

from __future__ import annotations

import math
import random
import threading
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from outreach_emulator.clock import Clock, iso_ms
from outreach_emulator.population import sizes
from outreach_emulator.records import RecordFactory, mix, salt
from outreach_emulator.reverse_links import ReverseLink
from outreach_pipeline.catalog import Stream, catalog

ID_BITS = 32
ID_MASK = (1 << ID_BITS) - 1
_YEAR_MS = 365 * 24 * 3600 * 1000
# Sorted from the integer arrays, without generating records; other attributes sort by value.
INDEXED = ("id", "createdAt", "updatedAt")
# An entry of a sort order: (key << ID_BITS) | id for INDEXED fields, else (0, value, id),
# or (1, id) for a null value: nulls come last ascending and first descending, as in Postgres.
Entry = Any


class UnknownRecord(KeyError):
    """No live record with that id in that stream."""


@dataclass
class Selection:
    """What a listing asks for. ``ranges`` are inclusive bounds by field (None = open): epoch
    ms for createdAt and updatedAt, values of the attribute's type otherwise; ``tests`` are
    predicates an attribute's value must pass (equality, lists, relationship filters)."""

    size: int
    sort_field: str = "id"
    descending: bool = False
    after: Entry = None  # sort-order entry of the last record already returned
    offset: int = 0  # matching records skipped first (deprecated offset paging)
    ranges: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    tests: dict[str, Callable[[Any], bool]] = field(default_factory=dict)
    ids: frozenset[int] | None = None


def entry_id(entry: Entry) -> int:
    return int(entry[-1]) if isinstance(entry, tuple) else int(entry) & ID_MASK


@dataclass
class Changed:
    """A record made or changed by a test: its full content, replacing the generated one."""

    attributes: dict[str, Any]
    to_one: dict[str, int | None]
    to_many: dict[str, list[int]]


class Table:
    """One stream's records: timestamps, changes, deletions, cached bytes and sort orders."""

    def __init__(self, stream: Stream, generated: int, created: list[int], updated: list[int]):
        self.stream = stream
        self.generated = generated
        self.created = created
        self.updated = updated
        self.deleted: set[int] = set()
        self.changed: dict[int, Changed] = {}
        self.cache: dict[int, bytes] = {}
        # Bumped on every change, so bytes built from content read before it are not cached.
        self.version = 0
        self._orders: dict[str, list[Entry]] = {}
        self.lock = threading.RLock()
        # Set by the store: a record's attribute values, for sorting and filtering by them.
        self.attributes_of: Callable[[int], dict[str, Any]] = lambda record_id: {}

    @property
    def last_id(self) -> int:
        return len(self.created)

    def exists(self, record_id: int) -> bool:
        return 1 <= record_id <= self.last_id and record_id not in self.deleted

    def key(self, sort_field: str, record_id: int) -> int:
        if sort_field == "id":
            return record_id
        values = self.created if sort_field == "createdAt" else self.updated
        return values[record_id - 1]

    def entry(self, sort_field: str, record_id: int) -> Entry:
        if sort_field in INDEXED:
            return (self.key(sort_field, record_id) << ID_BITS) | record_id
        value = self.attributes_of(record_id).get(sort_field)
        return (1, record_id) if value is None else (0, value, record_id)

    def order(self, sort_field: str) -> list[Entry]:
        """Entries (sort value, id) of live records, ascending; rebuilt after changes."""
        order = self._orders.get(sort_field)
        if order is None:
            with self.lock:
                live = (i for i in range(1, self.last_id + 1) if i not in self.deleted)
                order = sorted(self.entry(sort_field, i) for i in live)
                self._orders[sort_field] = order
        return order

    def touched(self, record_id: int) -> None:
        self.version += 1
        self.cache.pop(record_id, None)
        self._orders = {}

    def forget_serialized(self) -> None:
        self.version += 1
        self.cache.clear()

    def live_ids(self) -> Iterator[int]:
        return (i for i in range(1, self.last_id + 1) if i not in self.deleted)

    def select(self, sel: Selection) -> tuple[list[tuple[int, Entry]], bool]:
        """Up to ``sel.size`` (id, entry) pairs in order, and whether more follow."""
        order, start, stop = self._window(sel)
        if sel.after is not None:
            if sel.descending:
                stop = min(stop, bisect_left(order, sel.after))
            else:
                start = max(start, bisect_right(order, sel.after))
        picked: list[tuple[int, Entry]] = []
        skip = sel.offset
        indexes = range(stop - 1, start - 1, -1) if sel.descending else range(start, stop)
        for index in indexes:
            entry = order[index]
            record_id = entry_id(entry)
            if self.matches(sel, record_id):
                if skip:
                    skip -= 1
                    continue
                if len(picked) == sel.size:
                    return picked, True
                picked.append((record_id, entry))
        return picked, False

    def count(self, sel: Selection) -> int:
        order, start, stop = self._window(sel)
        others = sel.ids is not None or sel.tests or any(f != sel.sort_field for f in sel.ranges)
        if not others:
            return stop - start
        return sum(1 for i in range(start, stop) if self.matches(sel, entry_id(order[i])))

    def _window(self, sel: Selection) -> tuple[list[Entry], int, int]:
        order = self.order(sel.sort_field)
        low, high = sel.ranges.get(sel.sort_field, (None, None))
        if sel.sort_field in INDEXED:
            start = 0 if low is None else bisect_left(order, low << ID_BITS)
            stop = len(order) if high is None else bisect_right(order, (high << ID_BITS) | ID_MASK)
        else:
            start = 0 if low is None else bisect_left(order, (0, low))
            stop = len(order) if high is None else bisect_right(order, (0, high, math.inf))
        return order, start, stop

    def matches(self, sel: Selection, record_id: int) -> bool:
        if sel.ids is not None and record_id not in sel.ids:
            return False
        attributes: dict[str, Any] | None = None
        for name, (low, high) in sel.ranges.items():
            if name == sel.sort_field:
                continue
            value: Any
            if name in INDEXED:
                value = self.key(name, record_id)
            else:
                attributes = attributes or self.attributes_of(record_id)
                value = attributes.get(name)
                if value is None:
                    return False
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        for name, test in sel.tests.items():
            attributes = attributes or self.attributes_of(record_id)
            if not test(attributes.get(name)):
                return False
        return True


class RecordStore:
    """All streams of one emulated Outreach org, deterministic from (seed, scale)."""

    def __init__(self, seed: int, scale: int, data_epoch: int, clock: Clock) -> None:
        self.seed = seed
        self.scale = scale
        self.clock = clock
        self.streams = catalog()
        self.sizes = sizes(scale)
        self.factory = RecordFactory(seed, self.sizes)
        self.api_url = "http://127.0.0.1/api/v2"
        self.path_of_type = self.factory.path_of_type
        epoch_ms = data_epoch * 1000
        self.tables = {
            path: self._timestamps(stream, self.sizes[path], epoch_ms)
            for path, stream in self.streams.items()
        }
        for table in self.tables.values():
            table.attributes_of = self._attributes_reader(table)
        self._reverse_rels: dict[str, list[tuple[str, ReverseLink]]] = defaultdict(list)
        self._reversed_by: dict[str, set[str]] = defaultdict(set)
        for (path, rel), link in self.factory.links.reverse.items():
            self._reverse_rels[path].append((rel, link))
            self._reversed_by[link.source].add(path)
        # (source, rel) -> (source table version, linked id -> ids of source records naming it)
        self._link_index: dict[tuple[str, str], tuple[int, dict[int, list[int]]]] = {}
        self._link_lock = threading.Lock()

    def _timestamps(self, stream: Stream, count: int, epoch_ms: int) -> Table:
        """createdAt spread over the 4 years before the epoch (older for small reference
        streams); updatedAt later than createdAt, most often not long after it."""
        rng = random.Random(mix(self.seed, salt(stream.path), 7))
        span = 4 * _YEAR_MS if count > 100 else 6 * _YEAR_MS
        created = [epoch_ms - 1 - int(span * rng.random() ** 1.3) for _ in range(count)]
        if "updatedAt" not in stream.attributes:
            return Table(stream, count, created, list(created))
        updated = [
            c + int((epoch_ms - 1 - c) * rng.random() ** 3) if rng.random() < 0.85 else c
            for c in created
        ]
        return Table(stream, count, created, updated)

    def _attributes_reader(self, table: Table) -> Callable[[int], dict[str, Any]]:
        return lambda record_id: self._content(table, record_id).attributes

    def set_api_url(self, api_url: str) -> None:
        """Resources link to themselves under ``api_url``; cached bytes depend on it."""
        if api_url != self.api_url:
            self.api_url = api_url
            for table in self.tables.values():
                table.forget_serialized()

    def table(self, path: str) -> Table:
        if path not in self.tables:
            raise KeyError(f"unknown stream {path!r}")
        return self.tables[path]

    # -- reading ---------------------------------------------------------------------------

    def resource(self, path: str, record_id: int) -> dict[str, Any]:
        """The JSON:API resource object of a live record."""
        table = self.table(path)
        if not table.exists(record_id):
            raise UnknownRecord(f"{path}/{record_id}")
        return self._render(table, record_id, self._content(table, record_id))

    def resource_bytes(self, path: str, record_id: int) -> bytes:
        """The serialized resource object, built once per record version."""
        table = self.tables[path]
        cached = table.cache.get(record_id)
        if cached is None:
            version = table.version
            # Copied to an exact-size object: orjson's own result keeps its over-allocated
            # buffer, which more than doubled resident memory with every record cached.
            cached = bytes(memoryview(orjson.dumps(self.resource(path, record_id))))
            if table.version == version:
                table.cache[record_id] = cached
        return cached

    def records(self, path: str) -> list[dict[str, Any]]:
        """Every live record of ``path`` as resource objects, by id."""
        return [orjson.loads(self.resource_bytes(path, i)) for i in self.table(path).live_ids()]

    def ids(self, path: str) -> list[int]:
        return list(self.table(path).live_ids())

    def related_ids(self, path: str, rel: str, targets: frozenset[int]) -> frozenset[int]:
        """Ids of live ``path`` records whose ``rel`` points at one of ``targets``.

        Owned records (a prospect's mailings) are found by arithmetic; other relationships
        are resolved record by record.
        """
        table = self.table(path)
        if rel in table.stream.to_many:
            return frozenset(
                i
                for i in table.live_ids()
                if targets.intersection(self._content(table, i).to_many.get(rel, ()))
            )
        owned_by = self.factory.rules.owner_relationship(path) == rel
        owner = self.factory.ownership.get(path) if owned_by else None
        if owner is not None:
            generated = {i for t in targets for i in owner.children_of(t)} - table.changed.keys()
            candidates: Iterable[int] = table.changed.keys()
        else:
            generated, candidates = set(), table.live_ids()
        found = {
            i
            for i in candidates
            if table.exists(i) and self._content(table, i).to_one.get(rel) in targets
        }
        return frozenset((generated - table.deleted) | found)

    def linked(self, path: str, record_id: int, rel: str) -> list[tuple[str, int]]:
        """(type, id) of the live records ``rel`` of a live record names."""
        table = self.table(path)
        if not table.exists(record_id):
            return []
        content = self._content(table, record_id)
        stream = table.stream
        if rel in stream.to_one:
            target = content.to_one.get(rel)
            found = [(stream.to_one[rel], target)] if target else []
        else:
            found = [(stream.to_many[rel], i) for i in content.to_many.get(rel, [])]
        return [
            (kind, i)
            for kind, i in found
            if (other := self.tables.get(self.path_of_type.get(kind, ""))) is None
            or other.exists(i)
        ]

    def matching_ids(self, path: str, selection: Selection) -> list[int]:
        """Ids of every live ``path`` record the selection's filters keep."""
        table = self.table(path)
        return [i for i in table.live_ids() if table.matches(selection, i)]

    def counts(self) -> dict[str, int]:
        return {path: table.last_id - len(table.deleted) for path, table in self.tables.items()}

    def _content(self, table: Table, record_id: int) -> Changed:
        path = table.stream.path
        content = table.changed.get(record_id)
        if content is None:
            to_one = self.factory.to_one(path, record_id)
            attributes = self.factory.attributes(
                path, record_id, table.created[record_id - 1], table.updated[record_id - 1], to_one
            )
            content = Changed(attributes, to_one, self.factory.to_many(path, record_id))
        reversed_rels = self._reverse_rels.get(path)
        if not reversed_rels:
            return content
        to_many = dict(content.to_many)
        for rel, link in reversed_rels:
            to_many[rel] = self._naming(link, record_id)
        return Changed(content.attributes, content.to_one, to_many)

    def _naming(self, link: ReverseLink, record_id: int) -> list[int]:
        """Ids of live ``link.source`` records whose ``link.rel`` names ``record_id``."""
        table = self.tables[link.source]
        key = (link.source, link.rel)
        with self._link_lock:
            cached = self._link_index.get(key)
            if cached is None or cached[0] != table.version:
                cached = (table.version, self._index_links(table, link.rel))
                self._link_index[key] = cached
        return cached[1].get(record_id, [])

    def _index_links(self, table: Table, rel: str) -> dict[int, list[int]]:
        path = table.stream.path
        to_one = rel in table.stream.to_one
        index: dict[int, list[int]] = defaultdict(list)
        for source_id in table.live_ids():
            changed = table.changed.get(source_id)
            if to_one:
                one = (changed.to_one if changed else self.factory.to_one(path, source_id))[rel]
                linked = [one] if one else []
            else:
                many = changed.to_many if changed else self.factory.to_many(path, source_id)
                linked = many[rel]
            for target_id in linked:
                index[target_id].append(source_id)
        return dict(index)

    def _relinked(self, source: str, before: Changed, after: Changed, now: int | None) -> None:
        """A ``source`` record went from ``before`` to ``after``: the records on the other side
        of its links that gained or lost it changed too, and their ``updatedAt`` moves to
        ``now`` (None: a silent change, it stays), as it does for any visible change."""
        for path in self._reversed_by.get(source, ()):
            table = self.tables[path]
            table.forget_serialized()
            if now is None or "updatedAt" not in table.stream.attributes:
                continue
            for _, link in self._reverse_rels[path]:
                if link.source == source:
                    for target_id in _links(before, link.rel) ^ _links(after, link.rel):
                        self._touch(table, target_id, now)

    @staticmethod
    def _touch(table: Table, record_id: int, now: int) -> None:
        with table.lock:
            if not table.exists(record_id):
                return
            table.updated[record_id - 1] = now
            changed = table.changed.get(record_id)
            if changed is not None:
                changed.attributes["updatedAt"] = iso_ms(now)
            table.touched(record_id)

    def _render(self, table: Table, record_id: int, content: Changed) -> dict[str, Any]:
        stream = table.stream
        relationships: dict[str, Any] = {}
        for rel, target_type in stream.to_one.items():
            target_id = content.to_one.get(rel)
            relationships[rel] = {
                "data": {"type": target_type, "id": target_id} if target_id else None
            }
        for rel, target_type in stream.to_many.items():
            target = self.tables.get(self.path_of_type.get(target_type, ""))
            ids = content.to_many.get(rel, [])
            relationships[rel] = {
                "data": [
                    {"type": target_type, "id": i}
                    for i in ids
                    if target is None or i not in target.deleted
                ]
            }
        for rel in stream.links_only:
            related = f"{self.api_url}/{rel}?filter[{stream.jsonapi_type}][id]={record_id}"
            relationships[rel] = {"links": {"related": related}}
        return {
            "type": stream.jsonapi_type,
            "id": record_id,
            "attributes": content.attributes,
            "relationships": dict(sorted(relationships.items())),
            "links": {"self": f"{self.api_url}/{stream.path}/{record_id}"},
        }

    # -- changing --------------------------------------------------------------------------

    def create(
        self,
        path: str,
        attributes: Mapping[str, Any],
        relationships: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Add a record created now; returns its resource object."""
        table = self.table(path)
        stream = table.stream
        self._check_attributes(stream, attributes)
        now = self.clock.now_ms()
        values: dict[str, Any] = dict.fromkeys([*stream.attributes, *stream.withheld])
        values.update(attributes)
        for stamp in ("createdAt", "updatedAt"):
            if stamp in stream.attributes:
                values[stamp] = iso_ms(now)
        content = Changed(values, dict.fromkeys(stream.to_one), {r: [] for r in stream.to_many})
        self._apply_relationships(stream, content, relationships or {})
        with table.lock:
            table.created.append(now)
            table.updated.append(now)
            record_id = table.last_id
            table.changed[record_id] = content
            table.touched(record_id)
        self._relinked(path, Changed({}, {}, {}), content, now)
        return self.resource(path, record_id)

    def update(
        self,
        path: str,
        record_id: int,
        attributes: Mapping[str, Any],
        relationships: Mapping[str, Any] | None = None,
        *,
        silent: bool = False,
    ) -> dict[str, Any]:
        """Change a record; ``updatedAt`` moves to the clock's now unless ``silent``, which
        plays the changes Outreach makes without moving it (some relationship edits, data
        connections): only a sweep comparing more than ``updatedAt`` can notice them."""
        table = self.table(path)
        stream = table.stream
        self._check_attributes(stream, attributes)
        with table.lock:
            if not table.exists(record_id):
                raise UnknownRecord(f"{path}/{record_id}")
            current = self._content(table, record_id)
            content = Changed(
                {**current.attributes, **attributes},
                dict(current.to_one),
                {rel: list(ids) for rel, ids in current.to_many.items()},
            )
            self._apply_relationships(stream, content, relationships or {})
            now = self.clock.now_ms()
            if "updatedAt" in stream.attributes and not silent:
                content.attributes["updatedAt"] = iso_ms(now)
                table.updated[record_id - 1] = now
            table.changed[record_id] = content
            table.touched(record_id)
        self._relinked(path, current, content, None if silent else now)
        return self.resource(path, record_id)

    def delete(self, path: str, record_id: int) -> None:
        """Remove a record; to-many lists naming it stop doing so."""
        table = self.table(path)
        with table.lock:
            if not table.exists(record_id):
                raise UnknownRecord(f"{path}/{record_id}")
            current = self._content(table, record_id)
            table.deleted.add(record_id)
            table.touched(record_id)
        self._relinked(path, current, Changed({}, {}, {}), self.clock.now_ms())
        for other in self.tables.values():
            if table.stream.jsonapi_type in other.stream.to_many.values():
                other.forget_serialized()

    @staticmethod
    def _check_attributes(stream: Stream, attributes: Mapping[str, Any]) -> None:
        unknown = set(attributes) - set(stream.attributes) - set(stream.withheld)
        if unknown:
            raise ValueError(f"{stream.path} has no attributes {sorted(unknown)}")

    def _apply_relationships(
        self, stream: Stream, content: Changed, relationships: Mapping[str, Any]
    ) -> None:
        """Accepts ``{"prospect": 5}``, ``{"tasks": [1, 2]}`` or JSON:API ``{"data": ...}``."""
        for rel, value in relationships.items():
            if isinstance(value, Mapping):
                value = value.get("data")
            if rel in stream.to_one:
                content.to_one[rel] = _linked_id(value)
            elif (stream.path, rel) in self.factory.links.reverse:
                link = self.factory.links.reverse[(stream.path, rel)]
                raise ValueError(
                    f"{stream.path}.{rel} lists the {link.source} naming the record in their "
                    f"{link.rel!r}: change those instead"
                )
            elif rel in stream.to_many:
                content.to_many[rel] = [i for i in map(_linked_id, value or []) if i]
            else:
                raise ValueError(f"{stream.path} has no relationship {rel!r}")


def _links(content: Changed, rel: str) -> set[int]:
    """The ids ``content`` links to through ``rel`` (to-one or to-many)."""
    one = content.to_one.get(rel)
    return {one} if one else set(content.to_many.get(rel, []))


def _linked_id(value: Any) -> int | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return int(value) if value is not None else None
