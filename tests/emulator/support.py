"""Small helpers the emulator tests share: a client with a granted token, the OAuth dance."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from outreach_emulator import Emulator
from outreach_pipeline.catalog import catalog

ALL_READ_SCOPES = [s.scope for s in catalog().values()]


def api_client(
    emulator: Emulator, scopes: list[str] | None = None, **grant: object
) -> httpx.Client:
    """A keep-alive client on the API with a bearer token from a fresh grant."""
    token = emulator.grants.issue(scopes or ALL_READ_SCOPES, **grant)["access_token"]  # type: ignore[arg-type]
    return httpx.Client(
        base_url=emulator.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def authorize_params(emulator: Emulator, **overrides: str) -> dict[str, str]:
    return {
        "client_id": emulator.config.client_id,
        "redirect_uri": emulator.config.redirect_uris[0],
        "response_type": "code",
        "scope": "prospects.read users.read",
        "state": "s+t/a=te&%",
        **overrides,
    }


def redirected_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return {key: values[0] for key, values in query.items()}


def authorization_code(emulator: Emulator, **overrides: str) -> str:
    response = httpx.get(
        emulator.oauth_url + "/authorize", params=authorize_params(emulator, **overrides)
    )
    return redirected_params(response)["code"]


def token_request(emulator: Emulator, **form: str) -> httpx.Response:
    body = {
        "client_id": emulator.config.client_id,
        "client_secret": emulator.config.client_secret,
        **form,
    }
    return httpx.post(emulator.oauth_url + "/token", data=body)


def exchange(emulator: Emulator, code: str) -> httpx.Response:
    return token_request(
        emulator,
        grant_type="authorization_code",
        code=code,
        redirect_uri=emulator.config.redirect_uris[0],
    )


def refresh(emulator: Emulator, refresh_token: str, **form: str) -> httpx.Response:
    return token_request(emulator, grant_type="refresh_token", refresh_token=refresh_token, **form)


def all_pages(client: httpx.Client, path: str, **params: object) -> list[dict]:
    """Every record of a listing, following links.next to the end."""
    records: list[dict] = []
    response = client.get(f"/{path}", params=params)
    while True:
        response.raise_for_status()
        document = response.json()
        records.extend(document["data"])
        next_url = document.get("links", {}).get("next")
        if not next_url:
            return records
        response = client.get(next_url)
