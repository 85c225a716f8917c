"""How many records each stream holds for a given scale, and which records own which.

``scale`` is the number of prospects. At scale 20,000 the proportions below give about
252,000 records in the 25 streams most workspaces fill: per prospect 3 mailings, 2 events,
1.5 email addresses, 1.5 tasks, 1.2 phone numbers, 1 call, 1 sequence state and 0.25
opportunities; 1 account per 10 prospects; 1 user per 100 prospects (at least 5) with one
mailbox each; and small reference streams (stages, personas, dispositions, ...). The other
streams stay small (about 5,600 records more at scale 20,000): a prospect role per 10
prospects (on 2 opportunities in 5), a note per 20 prospects and per 4 accounts, a recipient
per 20 prospects, a few favorites, recordings, purchases and aliases, and a handful of each
kind of setting.

Which streams own which is a generation rule (``owners`` in generation.json). Ownership is
contiguous: child ``c`` of ``C`` children spread over ``P`` parents belongs to
parent ``1 + (c - 1) * P // C``. That makes both directions (a mailing's prospect, a
prospect's email addresses) pure arithmetic, so no index has to be built or stored.
"""

from __future__ import annotations

from dataclasses import dataclass

FIXED_SIZES = {
    "stages": 8,
    "personas": 6,
    "callDispositions": 7,
    "callPurposes": 5,
    "taskPriorities": 3,
    "opportunityStages": 7,
    "duties": 10,
    "contentCategories": 4,
    "contentCategoryMemberships": 12,
    "contentCategoryOwnerships": 4,
    "products": 10,
    "profiles": 3,
    "roles": 6,
    "rulesets": 3,
    "taskDispositions": 5,
    "taskPurposes": 5,
    "batches": 4,
    "batchItems": 40,
    "complianceRequests": 3,
    "webhooks": 2,
}


def sizes(scale: int) -> dict[str, int]:
    """Generated record count per stream path."""
    users = max(5, scale // 100)
    sequences = max(5, scale // 500)
    return {
        **FIXED_SIZES,
        "prospects": scale,
        "accounts": max(1, scale // 10),
        "users": users,
        "mailboxes": users,
        "teams": max(2, users // 10),
        "opportunities": scale // 4,
        "emailAddresses": scale * 3 // 2,
        "phoneNumbers": scale * 6 // 5,
        "mailings": scale * 3,
        "tasks": scale * 3 // 2,
        "calls": scale,
        "sequenceStates": scale,
        "events": scale * 2,
        "sequences": sequences,
        "sequenceSteps": sequences * 5,
        "sequenceTemplates": sequences * 5,
        "templates": max(10, scale // 200),
        "snippets": max(5, scale // 400),
        # At least one record each, at any scale: a client (and the benchmarks, which change
        # a share of every stream) meets every stream.
        "opportunityProspectRoles": max(1, scale // 10),
        "accountNotes": max(1, scale // 40),
        "prospectNotes": max(1, scale // 20),
        "recipients": max(1, scale // 20),
        "favorites": max(5, scale // 100),
        "kaiaRecordings": max(3, scale // 200),
        "purchases": max(5, scale // 40),
        "mailAliases": max(2, users // 2),
    }


@dataclass(frozen=True)
class Ownership:
    """Contiguous spreading of ``children`` records over ``parents`` records."""

    children: int
    parents: int

    def parent_of(self, child_id: int) -> int | None:
        if self.parents == 0 or not 1 <= child_id <= self.children:
            return None
        return 1 + (child_id - 1) * self.parents // self.children

    def children_of(self, parent_id: int) -> range:
        if not 1 <= parent_id <= self.parents:
            return range(0)
        first = -(-(parent_id - 1) * self.children // self.parents) + 1
        stop = -(-parent_id * self.children // self.parents) + 1
        return range(first, stop)
