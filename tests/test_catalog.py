"""The stream catalog covers the streams the peers sync and names tables predictably."""

import pytest

from outreach_pipeline.catalog import catalog, scopes_for, select, snake_case

AIRBYTE_STREAMS = {
    "accounts", "calls", "callDispositions", "callPurposes", "mailings", "mailboxes",
    "opportunities", "personas", "prospects", "sequences", "sequenceStates", "sequenceSteps",
    "snippets", "stages", "tasks", "templates", "users",
}  # fmt: skip
MORE_STREAMS = {
    "events", "emailAddresses", "phoneNumbers", "teams", "opportunityStages",
    "sequenceTemplates", "taskPriorities", "duties",
}  # fmt: skip


def test_catalog_covers_airbyte_streams_and_more() -> None:
    assert set(catalog()) >= AIRBYTE_STREAMS | MORE_STREAMS


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sequenceStates", "sequence_states"),
        ("addressStreet2", "address_street2"),
        ("custom12", "custom12"),
        ("externalCRMId", "external_crm_id"),
        ("linkedInUrl", "linked_in_url"),
    ],
)
def test_snake_case(name: str, expected: str) -> None:
    assert snake_case(name) == expected


def test_cursor_choices_follow_the_api() -> None:
    streams = catalog()
    assert streams["events"].cursor == "createdAt"
    assert streams["duties"].cursor is None
    assert streams["sequenceTemplates"].cursor is None
    # Heavy mailings pages may 502: the sync halves and remembers the size (not the catalog).
    assert streams["mailings"].page_size == 1000
    incremental = [s for s in streams.values() if s.incremental]
    assert all(s.cursor in s.attributes for s in incremental)


def test_attributes_are_typed_and_include_custom_fields() -> None:
    prospects = catalog()["prospects"]
    assert prospects.attributes["updatedAt"] == "timestamp"
    assert prospects.attributes["custom1"] == "string"
    assert prospects.attributes["emails"] == "string_list"
    assert prospects.to_one["account"] == "account"
    assert prospects.to_many["opportunities"] == "opportunity"


def test_select_names_unknown_streams() -> None:
    assert [s.path for s in select("prospects, accounts")] == ["prospects", "accounts"]
    assert len(select(None)) == len(catalog())
    with pytest.raises(KeyError, match="unknown stream 'prospect'"):
        select("prospect")


def test_scopes_are_read_scopes_plus_users() -> None:
    assert scopes_for(select("prospects")) == ["prospects.read", "users.read"]
