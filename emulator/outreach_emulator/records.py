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
from typing import Any

from outreach_emulator import fake
from outreach_emulator.attributes import attribute_plan
from outreach_emulator.clock import iso_ms
from outreach_emulator.population import OWNERS, Ownership
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

# Relationships never left empty, beyond the owning ones and users' owners/creators: other
# records derive from them (a mailing's sequence is its sequence state's sequence).
_ALWAYS_SET = {("sequenceStates", "sequence")}
# Relationship targets resolved first, so later ones can follow them.
_RESOLVE_ORDER = ("prospect", "account", "user", "sequenceState", "sequence", "sequenceStep")


class RecordFactory:
    """Builds the attributes and relationship ids of generated records."""

    def __init__(self, seed: int, sizes: dict[str, int]) -> None:
        self.seed = seed
        self.sizes = sizes
        self.streams = catalog()
        self.path_of_type = {s.jsonapi_type: s.path for s in self.streams.values()}
        self.ownership = {
            child: Ownership(sizes[child], sizes[parent]) for child, (_, parent) in OWNERS.items()
        }
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
        return {
            rel: list(owned.children_of(record_id)) if owned else []
            for rel, owned in self._children[path]
        }

    def _plan_to_many(self, stream: Stream) -> list[tuple[str, Ownership | None]]:
        plan: list[tuple[str, Ownership | None]] = []
        for rel, target_type in stream.to_many.items():
            target = self.path_of_type.get(target_type)
            owned = target is not None and OWNERS.get(target, ("", ""))[1] == stream.path
            plan.append((rel, self.ownership[target] if owned and target else None))
        return plan

    def _plan_to_one(self, stream: Stream) -> list[tuple[str, Resolver]]:
        def priority(item: tuple[str, str]) -> int:
            rel, target_type = item
            if OWNERS.get(stream.path, ("",))[0] == rel:
                return -1
            order = _RESOLVE_ORDER
            return order.index(target_type) if target_type in order else len(order)

        rels = sorted(stream.to_one.items(), key=priority)
        return [(rel, self._resolver(stream.path, rel, target)) for rel, target in rels]

    def _resolver(self, path: str, rel: str, target_type: str) -> Resolver:
        """How one to-one relationship gets its id; the most specific rule wins: the owner,
        then ids that follow from the owner (its account, its user's mailbox, its sequence
        state's sequence...), then a deterministic pick (a quarter left empty)."""
        target = self.path_of_type.get(target_type)
        if target is None or rel.startswith("trashed"):
            return lambda record_id, resolved: None
        if OWNERS.get(path, ("",))[0] == rel:
            ownership = self.ownership[path]
            return lambda record_id, resolved: ownership.parent_of(record_id)
        if target == "accounts":
            accounts = self.ownership["prospects"]
            return lambda record_id, resolved: (
                accounts.parent_of(resolved.get("prospect") or resolved.get("primaryProspect") or 0)
                or self.pick(path, record_id, rel, self.sizes["accounts"])
            )
        if target == "mailboxes" and "user" in self.streams[path].to_one:
            mailboxes = self.ownership["mailboxes"]
            return lambda record_id, resolved: _first(mailboxes.children_of(resolved["user"] or 0))
        if target == "mailboxes" and path == "users":
            mailboxes = self.ownership["mailboxes"]
            return lambda record_id, resolved: _first(mailboxes.children_of(record_id))
        if OWNERS.get(target, ("", ""))[1] == "prospects" and path != "prospects":
            owned = self.ownership[target]
            return lambda record_id, resolved: _first(
                owned.children_of(resolved.get("prospect") or resolved.get("primaryProspect") or 0)
            )
        if (
            target == "sequences"
            and rel == "sequence"
            and "sequenceState" in self.streams[path].to_one
        ):
            return lambda record_id, resolved: (
                self.pick("sequenceStates", state, "sequence", self.sizes["sequences"])
                if (state := resolved.get("sequenceState"))
                else None
            )
        if target == "sequenceSteps" and "sequence" in self.streams[path].to_one:
            steps = self.ownership["sequenceSteps"]

            def step_of_sequence(record_id: int, resolved: dict[str, int | None]) -> int | None:
                choices = steps.children_of(resolved.get("sequence") or 0)
                if not choices:
                    return None
                return choices[mix(self.seed, record_id) % len(choices)]

            return step_of_sequence
        owner_like = target == "users" and rel in ("owner", "creator", "updater", "user")
        always = owner_like or (path, rel) in _ALWAYS_SET
        size = self.sizes[target]
        seed, null_salt = self.seed, salt(rel)

        def chosen(record_id: int, resolved: dict[str, int | None]) -> int | None:
            if not always and mix(seed, null_salt, record_id) % 4 == 0:
                return None
            return self.pick(path, record_id, rel, size)

        return chosen

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


def _first(ids: range) -> int | None:
    return ids[0] if ids else None
