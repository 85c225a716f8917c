"""Both sides of a link agree over HTTP: a to-many that reverses another stream's to-one or
to-many lists exactly the records naming it (``mailings.tasks``, ``teams.users``,
``users.teams``, ...), for every such pair the catalog's relationship names reveal."""

from __future__ import annotations

from collections import defaultdict

import httpx
import pytest

from outreach_emulator import Emulator
from tests.emulator.support import all_pages, api_client


def linked_ids(record: dict, rel: str) -> list[int]:
    data = record["relationships"][rel]["data"]
    items = data if isinstance(data, list) else [data] if data else []
    return [int(item["id"]) for item in items]


def listing(client: httpx.Client, path: str) -> dict[int, dict]:
    return {int(r["id"]): r for r in all_pages(client, path, **{"page[size]": 1000})}


def test_every_reverse_link_lists_exactly_the_records_naming_it(emulator: Emulator) -> None:
    links = emulator.data.factory.links
    assert {("mailings", "tasks"), ("teams", "users")} <= set(links.reverse)
    assert ("users", "teams") in links.many_to_many
    with api_client(emulator) as client:
        for (path, rel), link in links.reverse.items():
            naming: dict[int, list[int]] = defaultdict(list)
            for source_id, source in listing(client, link.source).items():
                for target_id in linked_ids(source, link.rel):
                    naming[target_id].append(source_id)
            records = listing(client, path)
            for record_id, record in records.items():
                assert linked_ids(record, rel) == naming.get(record_id, []), (path, rel, record_id)
            assert any(linked_ids(r, rel) for r in records.values()), (path, rel)


def test_a_changed_link_shows_on_the_other_side(emulator: Emulator) -> None:
    with api_client(emulator) as client:
        task = client.get("/tasks/3").json()["data"]
        old_mailing = linked_ids(task, "mailing")
        emulator.data.update("tasks", 3, {}, {"mailing": 7})
        assert 3 in linked_ids(client.get("/mailings/7").json()["data"], "tasks")
        for mailing_id in old_mailing:
            before = linked_ids(client.get(f"/mailings/{mailing_id}").json()["data"], "tasks")
            assert 3 not in before
        emulator.data.update("users", 2, {}, {"teams": [1]})
        assert 2 in linked_ids(client.get("/teams/1").json()["data"], "users")
        emulator.data.delete("users", 2)
        assert 2 not in linked_ids(client.get("/teams/1").json()["data"], "users")
    with pytest.raises(ValueError, match="change those instead"):
        emulator.data.update("mailings", 7, {}, {"tasks": [1]})


def test_a_record_gaining_or_losing_a_link_moves_its_updated_at_unless_silent(
    emulator: Emulator,
) -> None:
    emulator.clock.advance(3600)
    now = emulator.clock.iso()[:16]
    teams = linked_ids(emulator.data.resource("users", 3), "teams")
    joined = next(t for t in range(1, 10) if t not in teams)
    emulator.data.update("users", 3, {}, {"teams": [joined]})
    for team_id in (*teams, joined):
        assert emulator.data.resource("teams", team_id)["attributes"]["updatedAt"][:16] == now
    emulator.clock.advance(3600)
    emulator.data.update("users", 3, {}, {"teams": teams}, silent=True)
    assert emulator.data.resource("teams", joined)["attributes"]["updatedAt"][:16] == now
