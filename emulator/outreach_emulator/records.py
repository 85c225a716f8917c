"""Deterministic content of every generated record: its relationships and its attributes.

A record is a pure function of (seed, stream, id, createdAt, updatedAt): nothing is stored
until a record is asked for, so a large scale builds instantly and costs memory only for what
is served. Relationships are resolved so ids point at records that exist and agree with each
other (a mailing's account is its prospect's account, its mailbox its user's mailbox).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from outreach_emulator import fake
from outreach_emulator.attributes import attribute_plan
from outreach_emulator.clock import iso_ms
from outreach_emulator.generation import check_rules, generation_rules
from outreach_emulator.population import Ownership
from outreach_emulator.reverse_links import plan_links
from outreach_pipeline.catalog import Stream, catalog

_MASK = (1 << 64) - 1


def mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): stable across processes, unlike hash()."""
    x = 0x9E3779B97F4A7C15
    for part in parts:
        x = (x ^ part) * 0xBF58476D1CE4E5B9 & _MASK
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK
        x ^= x >> 31
    return x


def salt(text: str) -> int:
    return zlib.crc32(text.encode())


@dataclass
class Draft:
    """A record being generated: what attribute builders may look at."""

    path: str
    id: int
    created_ms: int
    updated_ms: int
    rng: random.Random
    rels: dict[str, int | None]
    factory: RecordFactory
    notes: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, make: Callable[[Draft], Any]) -> Any:
        """A value shared by several attributes of this record (made on first use)."""
        if key not in self.notes:
            self.notes[key] = make(self)
        return self.notes[key]

    def between(self) -> str:
        """A timestamp between creation and last update."""
        span = self.updated_ms - self.created_ms
        return iso_ms(self.created_ms + int(self.rng.random() * span))

    def maybe_between(self, share: float = 0.5) -> str | None:
        return self.between() if self.rng.random() < share else None

    def prospect_id(self) -> int | None:
        if self.path == "prospects":
            return self.id
        return self.rels.get("prospect") or self.rels.get("primaryProspect")

    def account_id(self) -> int | None:
        """The record's account, or its prospect's when it has no account of its own."""
        account = self.rels.get("account")
        if account is None:
            account = self.factory.ownership["prospects"].parent_of(self.prospect_id() or 0)
        return account

    def position_in_owner(self, path: str) -> int:
        """0 for the first record its owner has in ``path``, 1 for the second, ..."""
        ownership = self.factory.ownership[path]
        siblings = ownership.children_of(ownership.parent_of(self.id) or 0)
        return self.id - siblings.start if siblings else 0

    def first_name(self, path: str, record_id: int | None) -> str:
        return self.factory.first_name(path, record_id)

    def last_name(self, path: str, record_id: int | None) -> str:
        return self.factory.last_name(path, record_id)


Builder = Callable[[Draft], Any]
Resolver = Callable[[int, dict[str, int | None]], int | None]
Members = Callable[[int], list[int]]


class RecordFactory:
    """Builds the attributes and relationship ids of generated records."""

    def __init__(self, seed: int, sizes: dict[str, int]) -> None:
        self.seed = seed
        self.sizes = sizes
        self.streams = catalog()
        self.rules = generation_rules()
        check_rules(self.rules, self.streams)
        self.path_of_type = {s.jsonapi_type: s.path for s in self.streams.values()}
        self.ownership = {
            child: Ownership(sizes[child], sizes[parent])
            for child, (_, parent) in self.rules.owners.items()
        }
        self.links = plan_links(self.streams, self.rules, sizes)
        self._resolvers = {path: self._plan_to_one(s) for path, s in self.streams.items()}
        self._children = {path: self._plan_to_many(s) for path, s in self.streams.items()}
        self._attribute_plans = {path: attribute_plan(s) for path, s in self.streams.items()}
        self._salts = {path: salt(path) for path in self.streams}
        self._pick_salts: dict[tuple[str, str], int] = {}

    # -- relationships ---------------------------------------------------------------------

    def pick(self, path: str, record_id: int, rel: str, among: int) -> int | None:
        """A deterministic choice of 1..among for ``rel`` of record ``path/record_id``."""
        if among <= 0:
            return None
        key = (path, rel)
        if key not in self._pick_salts:
            self._pick_salts[key] = salt(f"{path}.{rel}")
        return 1 + mix(self.seed, self._pick_salts[key], record_id) % among

    def to_one(self, path: str, record_id: int) -> dict[str, int | None]:
        resolved: dict[str, int | None] = {}
        for rel, resolver in self._resolvers[path]:
            resolved[rel] = resolver(record_id, resolved)
        return {rel: resolved[rel] for rel in self.streams[path].to_one}

    def to_many(self, path: str, record_id: int) -> dict[str, list[int]]:
        """Owned records, and the picks of the side holding a many-to-many link; the lists
        that reverse another stream's link are filled by the record store (``reverse_links``)."""
        return {rel: members(record_id) for rel, members in self._children[path]}

    def _plan_to_many(self, stream: Stream) -> list[tuple[str, Members]]:
        plan: list[tuple[str, Members]] = []
        for rel, target_type in stream.to_many.items():
            target = self.path_of_type.get(target_type)
            if target is not None and self.rules.owner_stream(target) == stream.path:
                plan.append((rel, _children(self.ownership[target])))
            elif target is not None and (stream.path, rel) in self.links.many_to_many:
                plan.append((rel, self._memberships(stream.path, rel, target)))
            else:
                plan.append((rel, _no_members))
        return plan

    def _memberships(self, path: str, rel: str, target: str) -> Members:
        """One record of ``target`` for every record, a second one for a third of them."""
        size, seed, second_salt = self.sizes[target], self.seed, salt(f"{rel}.second")

        def members(record_id: int) -> list[int]:
            first = self.pick(path, record_id, rel, size)
            chosen = {first}
            if mix(seed, second_salt, record_id) % 3 == 0:
                chosen.add(self.pick(path, record_id, f"{rel}.second", size))
            return sorted(i for i in chosen if i is not None)

        return members

    def _plan_to_one(self, stream: Stream) -> list[tuple[str, Resolver]]:
        def priority(item: tuple[str, str]) -> int:
            rel, target_type = item
            if self.rules.owner_relationship(stream.path) == rel:
                return -1
            order = self.rules.resolve_order
            return order.index(target_type) if target_type in order else len(order)

        rels = sorted(stream.to_one.items(), key=priority)
        return [(rel, self._resolver(stream.path, rel, target)) for rel, target in rels]

    def _resolver(self, path: str, rel: str, target_type: str) -> Resolver:
        """How one to-one relationship gets its id: the owner, else the rule generation.json
        gives it (ids that follow from the owner: its account, its user's mailbox, its sequence
        state's sequence...), else a deterministic pick (a quarter left empty)."""
        target = self.path_of_type.get(target_type)
        if target is None:
            return _empty
        if self.rules.owner_relationship(path) == rel:
            ownership = self.ownership[path]
            return lambda record_id, resolved: ownership.parent_of(record_id)
        rule = self.rules.relationship_rule(path, rel)
        return self._RULES[rule](self, path, rel, target)

    def _account_of_prospect(self, path: str, rel: str, target: str) -> Resolver:
        accounts = self.ownership["prospects"]
        return lambda record_id, resolved: (
            accounts.parent_of(_prospect_of(resolved))
            or self.pick(path, record_id, rel, self.sizes[target])
        )

    def _first_of_prospect(self, path: str, rel: str, target: str) -> Resolver:
        owned = self.ownership[target]
        return lambda record_id, resolved: _first(owned.children_of(_prospect_of(resolved)))

    def _mailbox_of_user(self, path: str, rel: str, target: str) -> Resolver:
        mailboxes = self.ownership[target]
        return lambda record_id, resolved: _first(mailboxes.children_of(resolved["user"] or 0))

    def _own_mailbox(self, path: str, rel: str, target: str) -> Resolver:
        mailboxes = self.ownership[target]
        return lambda record_id, resolved: _first(mailboxes.children_of(record_id))

    def _prospect_of_opportunity(self, path: str, rel: str, target: str) -> Resolver:
        """The primary prospect of the record's opportunity (the prospect owning it)."""
        opportunities = self.ownership["opportunities"]
        return lambda record_id, resolved: opportunities.parent_of(resolved["opportunity"] or 0)

    def _sequence_of_state(self, path: str, rel: str, target: str) -> Resolver:
        return lambda record_id, resolved: (
            self.pick("sequenceStates", state, "sequence", self.sizes[target])
            if (state := resolved.get("sequenceState"))
            else None
        )

    def _step_of_sequence(self, path: str, rel: str, target: str) -> Resolver:
        steps = self.ownership[target]

        def step_of_sequence(record_id: int, resolved: dict[str, int | None]) -> int | None:
            choices = steps.children_of(resolved.get("sequence") or 0)
            if not choices:
                return None
            return choices[mix(self.seed, record_id) % len(choices)]

        return step_of_sequence

    def _pick(self, path: str, rel: str, target: str, always: bool = False) -> Resolver:
        size = self.sizes[target]
        seed, null_salt = self.seed, salt(rel)

        def chosen(record_id: int, resolved: dict[str, int | None]) -> int | None:
            if not always and mix(seed, null_salt, record_id) % 4 == 0:
                return None
            return self.pick(path, record_id, rel, size)

        return chosen

    def _always(self, path: str, rel: str, target: str) -> Resolver:
        return self._pick(path, rel, target, always=True)

    def _earlier(self, path: str, rel: str, target: str) -> Resolver:
        """A tree within one stream: a record's parent is one made before it (a quarter have
        none, the first never), so no record is its own parent or ancestor."""
        seed, rel_salt = self.seed, salt(rel)

        def earlier(record_id: int, resolved: dict[str, int | None]) -> int | None:
            if record_id <= 1 or mix(seed, rel_salt, record_id) % 4 == 0:
                return None
            return 1 + mix(seed, rel_salt, record_id, 1) % (record_id - 1)

        return earlier

    def _none(self, path: str, rel: str, target: str) -> Resolver:
        return _empty

    _RULES: ClassVar[dict[str, Callable[[RecordFactory, str, str, str], Resolver]]] = {
        "pick": _pick,
        "always": _always,
        "none": _none,
        "earlier": _earlier,
        "account_of_prospect": _account_of_prospect,
        "first_of_prospect": _first_of_prospect,
        "mailbox_of_user": _mailbox_of_user,
        "own_mailbox": _own_mailbox,
        "prospect_of_opportunity": _prospect_of_opportunity,
        "sequence_of_state": _sequence_of_state,
        "step_of_sequence": _step_of_sequence,
    }

    # -- attributes ------------------------------------------------------------------------

    def attributes(
        self, path: str, record_id: int, created_ms: int, updated_ms: int, rels: dict
    ) -> dict[str, Any]:
        template, builders = self._attribute_plans[path]
        rng = random.Random(mix(self.seed, self._salts[path], record_id))
        draft = Draft(path, record_id, created_ms, updated_ms, rng, rels, self)
        values = dict(template)
        for name, build in builders:
            values[name] = build(draft)
        return values

    def first_name(self, path: str, record_id: int | None) -> str:
        names = fake.FIRST_NAMES
        return names[mix(self.seed, self._salts[path], record_id or 0, 1) % len(names)]

    def last_name(self, path: str, record_id: int | None) -> str:
        names = fake.LAST_NAMES
        return names[mix(self.seed, self._salts[path], record_id or 0, 2) % len(names)]

    def company(self, account_id: int | None) -> str:
        key = mix(self.seed, self._salts["accounts"], account_id or 0, 3)
        words, suffixes = fake.COMPANY_WORDS, fake.COMPANY_SUFFIXES
        name = f"{words[key % len(words)]} {suffixes[(key >> 8) % len(suffixes)]}"
        return name if account_id is None or account_id <= 300 else f"{name} {account_id}"


def _children(ownership: Ownership) -> Members:
    return lambda record_id: list(ownership.children_of(record_id))


def _no_members(record_id: int) -> list[int]:
    return []


def _first(ids: range) -> int | None:
    return ids[0] if ids else None


def _prospect_of(resolved: dict[str, int | None]) -> int:
    return resolved.get("prospect") or resolved.get("primaryProspect") or 0


def _empty(record_id: int, resolved: dict[str, int | None]) -> int | None:
    return None
