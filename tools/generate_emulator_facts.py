"""Regenerate ``emulator/outreach_emulator/api_facts.json`` from Outreach's published OpenAPI.

The emulator answers filters, sorts and writes, and generates values, by what the definition
says of each attribute of every list endpoint's resource: its type and format, the values an
enumerated string may hold, its maximum length, and the badges that mark it filterable,
sortable or read-only; and, per relationship, the attributes of the related record it can be
filtered by. Only those derived facts are written, never the definition's text.

    uv run python tools/generate_emulator_facts.py ../shared/reference/outreach-openapi.json
"""

import json
import re
import sys
from pathlib import Path

_BADGE = re.compile(r"badges/(\w+)\.svg")
# Descriptions name the allowed values of an enumerated string in one sentence:
# 'Must be one of "finish", "continue", or "pause".', "Can be 'bounced', 'delivered' ...".
_ENUM_PHRASE = re.compile(
    r"one of|[Cc]an be|[Mm]ust be(?: either)?|[Pp]ossible values are|[Vv]alid values are"
)
_SENTENCE_END = re.compile(r"\.\s+[A-Z]|\.$")
_QUOTED = re.compile(r"[\"'“]([A-Za-z0-9_ \-]+?)[.,]?[\"'”]")
# 'You can use attributes id, customId, name, named and updatedAt to filter prospects by account'
_RELATIONSHIP_FILTER = re.compile(r"You can use (?:only )?(?:the )?attributes? (.+?) to filter")


def enum_values(description: str) -> list[str] | None:
    text = description.rsplit("\n", 1)[-1]
    phrase = _ENUM_PHRASE.search(text)
    if phrase is None:
        return None
    rest = text[phrase.end() :]
    end = _SENTENCE_END.search(rest)
    values = _QUOTED.findall(rest[: end.start() + 1] if end else rest)
    return values if len(values) >= 2 else None


def attribute_facts(spec: dict) -> dict:
    description = spec.get("description") or ""
    badges = set(_BADGE.findall(description))
    facts: dict = {"type": spec.get("type")}
    if "format" in spec:
        facts["format"] = spec["format"]
    if spec.get("type") == "array":
        items = spec.get("items", {})
        facts["items"] = items.get("format") or items.get("type")
    if "maxLength" in spec:
        facts["maxLength"] = spec["maxLength"]
    if spec.get("type") == "string" and (values := enum_values(description)):
        facts["enum"] = values
    for badge in ("filterable", "sortable", "readonly"):
        if badge in badges:
            facts[badge] = True
    return facts


def relationship_filters(spec: dict) -> list[str]:
    """Attributes of the related record a listing can be filtered by (``filter[rel][attr]``)."""
    match = _RELATIONSHIP_FILTER.search(spec.get("description") or "")
    if match is None:
        return []
    return [name.strip() for name in re.split(r",|\band\b", match.group(1)) if name.strip()]


def resource_facts(schemas: dict, jsonapi_type: str) -> dict:
    attributes = {
        name: attribute_facts(spec)
        for name, spec in sorted(schemas[jsonapi_type].get("properties", {}).items())
        if not spec.get("x-internal")
    }
    relationships = schemas.get(f"{jsonapi_type}Relationships", {}).get("properties", {})
    return {
        "type": jsonapi_type,
        "attributes": attributes,
        "relationship_filters": {
            name: filters
            for name, spec in sorted(relationships.items())
            if (filters := relationship_filters(spec))
        },
    }


def list_endpoints(paths: dict) -> dict[str, str]:
    """path -> JSON:API type, for every top-level collection with a GET."""
    found = {}
    for path, operations in sorted(paths.items()):
        if "get" not in operations or path.count("/") != 1:
            continue
        content = operations["get"]["responses"]["200"]["content"]
        reference = content["application/vnd.api+json"]["schema"]["properties"]["data"]
        found[path.strip("/")] = reference["items"]["$ref"].rsplit("/", 1)[-1][: -len("Response")]
    return found


def main(openapi_path: str) -> None:
    definition = json.loads(Path(openapi_path).read_text())
    schemas = definition["components"]["schemas"]
    facts = {
        path: resource_facts(schemas, jsonapi_type)
        for path, jsonapi_type in list_endpoints(definition["paths"]).items()
    }
    target = (
        Path(__file__).resolve().parent.parent / "emulator" / "outreach_emulator" / "api_facts.json"
    )
    target.write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n")
    print(f"wrote facts of {len(facts)} list endpoints to {target}")


if __name__ == "__main__":
    main(sys.argv[1])
