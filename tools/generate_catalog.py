"""Regenerate ``outreach_pipeline/streams.json`` from Outreach's published OpenAPI definition.

Only attribute names, their types and relationship targets are taken from the definition;
paging, cursor and S2S choices come from ``STREAMS`` below, which records what public
material and working connectors say (see ../shared/outreach-api.md).

    uv run python tools/generate_catalog.py ../shared/reference/outreach-openapi.json
"""

import json
import sys
from pathlib import Path

# path: (JSON:API type, cursor field or None, default page size, reachable with S2S tokens)
STREAMS: dict[str, tuple[str, str | None, int, bool]] = {
    "accounts": ("account", "updatedAt", 1000, True),
    "calls": ("call", "updatedAt", 1000, True),
    "callDispositions": ("callDisposition", "updatedAt", 1000, False),
    "callPurposes": ("callPurpose", "updatedAt", 1000, False),
    "duties": ("duty", None, 1000, False),
    "emailAddresses": ("emailAddress", "updatedAt", 1000, False),
    "events": ("event", "createdAt", 1000, True),
    "mailboxes": ("mailbox", "updatedAt", 1000, False),
    "mailings": ("mailing", "updatedAt", 1000, True),
    "opportunities": ("opportunity", "updatedAt", 1000, True),
    "opportunityStages": ("opportunityStage", "updatedAt", 1000, False),
    "personas": ("persona", "updatedAt", 1000, False),
    "phoneNumbers": ("phoneNumber", "updatedAt", 1000, False),
    "prospects": ("prospect", "updatedAt", 1000, True),
    "sequenceStates": ("sequenceState", "updatedAt", 1000, True),
    "sequenceSteps": ("sequenceStep", "updatedAt", 1000, False),
    "sequenceTemplates": ("sequenceTemplate", None, 1000, False),
    "sequences": ("sequence", "updatedAt", 1000, True),
    "snippets": ("snippet", "updatedAt", 1000, True),
    "stages": ("stage", "updatedAt", 1000, False),
    "taskPriorities": ("taskPriority", "updatedAt", 1000, False),
    "tasks": ("task", "updatedAt", 1000, True),
    "teams": ("team", "updatedAt", 1000, False),
    "templates": ("template", "updatedAt", 1000, True),
    "users": ("user", "updatedAt", 1000, True),
}


def attribute_type(schema: dict) -> str:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "string":
        return {"date-time": "timestamp", "date": "date"}.get(fmt or "", "string")
    if kind == "integer":
        return "integer"
    if kind == "number":
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "array" and schema.get("items", {}).get("type") == "string":
        return "string_list"
    return "json"


def stream_entry(schemas: dict, jsonapi_type: str, cursor, page_size, s2s) -> dict:
    resource = schemas[jsonapi_type]
    attributes = {
        name: attribute_type(spec)
        for name, spec in sorted(resource.get("properties", {}).items())
        if not spec.get("x-internal")
    }
    to_one: dict[str, str] = {}
    to_many: dict[str, str] = {}
    links_only: list[str] = []
    relationships = schemas.get(f"{jsonapi_type}Relationships", {}).get("properties", {})
    for name, spec in sorted(relationships.items()):
        data = spec.get("properties", {}).get("data")
        if data is None:
            links_only.append(name)
        elif data.get("type") == "array":
            to_many[name] = data["items"]["properties"]["type"]["enum"][0]
        else:
            to_one[name] = data["properties"]["type"]["enum"][0]
    summary = resource.get("description", "").strip().split("\n")[0]
    return {
        "type": jsonapi_type,
        "cursor": cursor,
        "page_size": page_size,
        "s2s": s2s,
        "summary": summary,
        "attributes": attributes,
        "to_one": to_one,
        "to_many": to_many,
        "links_only": links_only,
    }


def main(openapi_path: str) -> None:
    schemas = json.loads(Path(openapi_path).read_text())["components"]["schemas"]
    catalog = {path: stream_entry(schemas, *spec) for path, spec in sorted(STREAMS.items())}
    target = Path(__file__).resolve().parent.parent / "outreach_pipeline" / "streams.json"
    target.write_text(json.dumps(catalog, indent=1) + "\n")
    print(f"wrote {len(catalog)} streams to {target}")


if __name__ == "__main__":
    main(sys.argv[1])
