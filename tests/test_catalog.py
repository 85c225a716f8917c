"""The stream catalog covers every collection Outreach lists and names tables predictably."""

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
# The rest of the 47 collections the OpenAPI definition lists, but for auditLogs (UUID ids).
EVERY_OTHER_LISTING = {
    "accountNotes", "batchItems", "batches", "complianceRequests", "contentCategories",
    "contentCategoryMemberships", "contentCategoryOwnerships", "favorites", "kaiaRecordings",
    "mailAliases", "opportunityProspectRoles", "products", "profiles", "prospectNotes",
    "purchases", "recipients", "roles", "rulesets", "taskDispositions", "taskPurposes",
    "webhooks",
}  # fmt: skip


def test_catalog_covers_every_listed_collection_but_audit_logs() -> None:
    assert set(catalog()) == AIRBYTE_STREAMS | MORE_STREAMS | EVERY_OTHER_LISTING
    assert len(catalog()) == 46


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
    # Notes change (PATCH) but have no updatedAt: read whole, not by createdAt like events.
    assert streams["accountNotes"].cursor is None
    assert streams["prospectNotes"].cursor is None
    assert streams["batches"].cursor is None  # updatedAt not filterable
    assert streams["kaiaRecordings"].cursor == "updatedAt"
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
    assert len(select(None)) == len(catalog()) - 2
    with pytest.raises(KeyError, match="unknown stream 'prospect'"):
        select("prospect")


def test_scopes_are_read_scopes_plus_users() -> None:
    assert scopes_for(select("prospects")) == ["prospects.read", "users.read"]


def test_admin_streams_are_off_by_default_and_synced_when_named() -> None:
    off = {s.path for s in catalog().values() if not s.default}
    assert off == {"complianceRequests", "webhooks"}
    assert off.isdisjoint(s.path for s in select(None))
    assert [s.path for s in select("webhooks")] == ["webhooks"]


def test_a_webhook_secret_is_withheld_from_the_columns() -> None:
    webhooks = catalog()["webhooks"]
    assert webhooks.withheld == {"secret": "string"}
    assert "secret" not in webhooks.attributes
