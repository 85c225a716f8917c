"""Regenerate ``outreach_pipeline/streams.json`` from Outreach's published OpenAPI definition.

Every collection the definition lists with GET (``/api/v2/<path>``) becomes a stream, but for
those in ``LEFT_OUT``. Each stream's JSON:API type, attribute names and types, relationships,
cursor and S2S reach come from the definition:

- cursor: ``updatedAt`` where the definition marks it filterable; else ``createdAt`` where it
  is filterable and records never change (no PATCH on ``/<path>/{id}``: ``events``); else none,
  and the stream is read whole on every run (``duties``, notes, ``batches``, ``webhooks``...).
- s2s: the listing accepts an S2S token (``s2sAuthToken`` among its security schemes).

What the definition cannot say is recorded below: which streams a sync leaves out unless named
(``OFF_BY_DEFAULT``), which are not streams at all (``LEFT_OUT``) and which attributes never
land (``WITHHELD``); see ../shared/outreach-api.md and docs/landing.md.

    uv run python tools/generate_catalog.py ../shared/reference/outreach-openapi.json
"""

import json
import re
import sys
from pathlib import Path

PAGE_SIZE = 1000

# Collections that are not streams, and why.
LEFT_OUT = {
    # Ids are UUID strings (every landing table, bridge and sweep keys on BIGINT ids), the
    # cursor is `timestamp`, entries are kept only 90 days and reading them needs an admin.
    "auditLogs": "UUID ids, timestamp cursor, admin only",
}

# Streams a sync leaves out unless they are named (`--streams complianceRequests`): reading
# them needs an administrator's grant, and what they hold is configuration or personal data a
# warehouse rarely wants.
OFF_BY_DEFAULT = {
    "complianceRequests": "admin only; holds the PII of deletion and export requests",
    "webhooks": "admin only; the org's webhook configuration, not sales data",
}

# Attributes the API serves that never land, not even in `_extra`: secrets stay out of the
# DuckDB file.
WITHHELD = {"webhook": {"secret"}}

_BADGE = re.compile(r"badges/(\w+)\.svg")


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


def badges(schema: dict) -> set[str]:
    """The marks (``filterable``, ``sortable``, ``readonly``...) in an attribute's description."""
    return set(_BADGE.findall(schema.get("description", "")))


def cursor_of(properties: dict, append_only: bool) -> str | None:
    if "filterable" in badges(properties.get("updatedAt", {})):
        return "updatedAt"
    if append_only and "filterable" in badges(properties.get("createdAt", {})):
        return "createdAt"
    return None


def list_endpoints(spec: dict) -> dict[str, str]:
    """JSON:API type by path of every collection listed with GET."""
    found = {}
    for path, operations in spec["paths"].items():
        name = path.strip("/")
        if "get" not in operations or "/" in name or "{" in name:
            continue
        response = json.dumps(operations["get"]["responses"])
        resource = re.search(r"#/components/schemas/(\w+)Response", response)
        if resource:
            found[name] = resource.group(1)
    return found


def stream_entry(spec: dict, path: str, jsonapi_type: str) -> dict:
    schemas = spec["components"]["schemas"]
    resource = schemas[jsonapi_type]
    properties = resource.get("properties", {})
    withheld = WITHHELD.get(jsonapi_type, set())
    attributes = {
        name: attribute_type(schema)
        for name, schema in sorted(properties.items())
        if not schema.get("x-internal") and name not in withheld
    }
    to_one: dict[str, str] = {}
    to_many: dict[str, str] = {}
    links_only: list[str] = []
    relationships = schemas.get(f"{jsonapi_type}Relationships", {}).get("properties", {})
    for name, schema in sorted(relationships.items()):
        data = schema.get("properties", {}).get("data")
        if data is None:
            links_only.append(name)
        elif data.get("type") == "array":
            to_many[name] = data["items"]["properties"]["type"]["enum"][0]
        else:
            to_one[name] = data["properties"]["type"]["enum"][0]
    one_record = spec["paths"].get(f"/{path}/{{id}}", {})
    listing = spec["paths"][f"/{path}"]["get"]
    schemes = {name for scheme in listing.get("security", []) for name in scheme}
    summary = resource.get("description", "").strip().split("\n")[0]
    return {
        "type": jsonapi_type,
        "cursor": cursor_of(properties, append_only="patch" not in one_record),
        "page_size": PAGE_SIZE,
        "s2s": "s2sAuthToken" in schemes,
        "default": path not in OFF_BY_DEFAULT,
        "summary": summary or summary_of(listing),
        "attributes": attributes,
        "withheld": {name: attribute_type(properties[name]) for name in sorted(withheld)},
        "to_one": to_one,
        "to_many": to_many,
        "links_only": links_only,
    }


def summary_of(listing: dict) -> str:
    """``Get a Collection of Kaia Recordings`` -> ``Kaia recordings``, for a resource the
    definition leaves undescribed."""
    name = listing.get("summary", "").removeprefix("Get a Collection of ")
    return name[:1] + name[1:].lower()


def main(openapi_path: str) -> None:
    spec = json.loads(Path(openapi_path).read_text())
    endpoints = list_endpoints(spec)
    catalog = {
        path: stream_entry(spec, path, jsonapi_type)
        for path, jsonapi_type in sorted(endpoints.items())
        if path not in LEFT_OUT
    }
    target = Path(__file__).resolve().parent.parent / "outreach_pipeline" / "streams.json"
    target.write_text(json.dumps(catalog, indent=1) + "\n")
    print(f"wrote {len(catalog)} of {len(endpoints)} listed collections to {target}")


if __name__ == "__main__":
    main(sys.argv[1])
