"""The emulator's generation rules (generation.json) agree with the stream catalog."""

from __future__ import annotations

from dataclasses import replace

import pytest

from outreach_emulator.generation import check_rules, generation_rules
from outreach_pipeline.catalog import catalog


def test_the_rules_name_only_streams_relationships_and_attributes_of_the_catalog() -> None:
    check_rules(generation_rules(), catalog())


def test_a_rule_for_what_the_catalog_lacks_is_named() -> None:
    rules = generation_rules()
    drifted = replace(
        rules,
        attributes={**rules.attributes, "prospects": {"noSuchAttribute": "prospect_first_name"}},
        relationships={**rules.relationships, "calls": {"noSuchRelationship": "first_of_prospect"}},
    )
    with pytest.raises(
        ValueError,
        match=r"relationships\.calls\.noSuchRelationship.*attributes\.prospects\.noSuchAttribute",
    ):
        check_rules(drifted, catalog())
