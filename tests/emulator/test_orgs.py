"""Several orgs behind one emulated Outreach: each org's users, data, rate limits and grants.

An app is authorized by users of many orgs. Ids are per org, so two orgs both have a prospect
1 with different contents; a token reaches only its user's org; limits and grants are per user.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Iterator

import httpx
import pytest

from outreach_emulator import Emulator, EmulatorConfig, OrgSpec, numbered_orgs
from outreach_pipeline.commands import emulator as emulator_command
from tests.emulator.support import (
    all_pages,
    authorization_code,
    authorize_params,
    exchange,
    redirected_params,
    refresh,
)
from tests.emulator.test_admin_and_command import LISTENING

ACME = OrgSpec("acme", seed=7, scale=200)
GLOBEX = OrgSpec("globex", seed=8, scale=300, rate_limit=5)


@pytest.fixture
def two_orgs(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator(orgs=(ACME, GLOBEX))


@pytest.fixture
def admin(two_orgs: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=two_orgs.base_url + "/_emulator", timeout=10) as client:
        yield client


def consent(emulator: Emulator, login_hint: str, **params: str) -> dict[str, str]:
    """The token body a code exchange gives after ``login_hint``'s user consented."""
    response = exchange(emulator, authorization_code(emulator, login_hint=login_hint, **params))
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def api(emulator: Emulator, access_token: str) -> httpx.Client:
    return httpx.Client(
        base_url=emulator.api_url, headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )


def test_a_token_reads_only_its_own_orgs_records(two_orgs: Emulator, admin: httpx.Client) -> None:
    acme = consent(two_orgs, "acme:1", scope="prospects.all")
    globex = consent(two_orgs, "globex:1")
    with api(two_orgs, acme["access_token"]) as a, api(two_orgs, globex["access_token"]) as g:
        acme_rows = all_pages(a, "prospects", **{"page[size]": 1000})
        globex_rows = all_pages(g, "prospects", **{"page[size]": 1000})
        assert acme_rows == two_orgs.org("acme").data.records("prospects")
        assert globex_rows == two_orgs.org("globex").data.records("prospects")
        assert len(acme_rows) == 200 and len(globex_rows) == 300
        # Ids overlap, as on the real API (ids are per org); contents do not.
        assert acme_rows[0]["id"] == globex_rows[0]["id"] == 1
        assert acme_rows[0]["attributes"] != globex_rows[0]["attributes"]
        # A record only globex has is not found with acme's token, single or filtered.
        assert g.get("/prospects/250").status_code == 200
        assert a.get("/prospects/250").status_code == 404
        assert a.get("/prospects", params={"filter[id]": "250"}).json()["data"] == []
        # A write with acme's token changes acme's record, never globex's.
        before = two_orgs.org("globex").data.resource("prospects", 1)
        patched = a.patch(
            "/prospects/1",
            json={"data": {"type": "prospect", "id": 1, "attributes": {"title": "Acme only"}}},
            headers={"Content-Type": "application/vnd.api+json"},
        )
        assert patched.status_code == 200, patched.text
        assert two_orgs.org("globex").data.resource("prospects", 1) == before
        assert g.get("/prospects/1").json()["data"]["attributes"]["title"] != "Acme only"
    # The oracle over HTTP, per org.
    served = admin.get("/records/prospects", params={"org": "globex"}).json()["data"]
    assert served == globex_rows
    assert admin.get("/records/prospects", params={"org": "acme"}).json()["data"][0]["attributes"][
        "title"
    ] == ("Acme only")
    assert admin.get("/records", params={"org": "globex"}).json()["prospects"] == 300
    assert admin.get("/records", params={"org": "initech"}).status_code == 404


def test_rate_limits_are_per_user_of_each_org(two_orgs: Emulator, admin: httpx.Client) -> None:
    """globex allows 5 requests per user and hour: its user 1 runs out, its user 2 and acme's
    user 1 (the same id, another org, the default 10,000) do not."""
    tokens = {hint: consent(two_orgs, hint) for hint in ("globex:1", "globex:2", "acme:1")}
    with api(two_orgs, tokens["globex:1"]["access_token"]) as spent:
        statuses = [spent.get("/users").status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        assert spent.get("/users").headers["X-RateLimit-Limit"] == "5"
    with api(two_orgs, tokens["globex:2"]["access_token"]) as fresh:
        assert fresh.get("/users").headers["X-RateLimit-Remaining"] == "4"
    with api(two_orgs, tokens["acme:1"]["access_token"]) as other_org:
        answer = other_org.get("/users")
        assert answer.status_code == 200
        assert answer.headers["X-RateLimit-Remaining"] == "9999"
    globex = admin.get("/orgs/globex").json()
    assert globex["requests_by_user"] == {"1": 7, "2": 1}
    assert globex["rate_limited_by_user"] == {"1": 2}
    assert globex["rate_limit"] == 5 and globex["users"] == [1, 2, 3, 4, 5]
    acme = admin.get("/orgs").json()["acme"]
    assert acme["requests_by_user"] == {"1": 1} and acme["rate_limited_by_user"] == {}
    assert acme["token_mints"] == 1 and globex["token_mints_by_user"] == {"1": 1, "2": 1}


def test_revoking_one_users_grant_leaves_the_other_grants_working(
    two_orgs: Emulator, admin: httpx.Client
) -> None:
    """Three grants in two orgs; acme's user 1 disconnects the app."""
    two_orgs.clock.freeze()
    tokens = {hint: consent(two_orgs, hint) for hint in ("acme:1", "acme:2", "globex:1")}
    assert admin.post("/grants/revoke", json={"org": "acme", "user_id": 1}).json() == {"revoked": 1}
    with api(two_orgs, tokens["acme:1"]["access_token"]) as revoked:
        assert revoked.get("/prospects").status_code == 401
    dead = refresh(two_orgs, tokens["acme:1"]["refresh_token"])
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    two_orgs.clock.advance(61)  # past the mint limit of the consent
    for hint in ("acme:2", "globex:1"):
        with api(two_orgs, tokens[hint]["access_token"]) as alive:
            assert alive.get("/prospects").status_code == 200
        assert refresh(two_orgs, tokens[hint]["refresh_token"]).status_code == 200, hint
    assert admin.get("/orgs/acme").json()["live_grants_by_user"] == {"2": 1}
    assert admin.get("/orgs/globex").json()["live_grants_by_user"] == {"1": 1}


def test_expiring_one_users_grant_or_access_tokens(two_orgs: Emulator, admin: httpx.Client) -> None:
    two_orgs.clock.freeze()
    lapsed, other = consent(two_orgs, "acme:2"), consent(two_orgs, "globex:2")
    two_orgs.clock.advance(61)
    assert admin.post("/grants/expire", json={"org": "acme", "user_id": 2}).json() == {"expired": 1}
    with api(two_orgs, lapsed["access_token"]) as gone:
        assert gone.get("/users").status_code == 401
    answer = refresh(two_orgs, lapsed["refresh_token"])
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "The refresh token has expired.",
    }
    ended = admin.post("/grants/expire-access", json={"org": "globex", "user_id": 2}).json()
    assert ended == {"expired": 1}
    with api(two_orgs, other["access_token"]) as stale:
        assert stale.get("/users").status_code == 401
    renewed = refresh(two_orgs, other["refresh_token"])
    assert renewed.status_code == 200
    with api(two_orgs, renewed.json()["access_token"]) as again:
        assert again.get("/users").status_code == 200


def test_the_token_mint_limit_is_per_user_not_per_app(two_orgs: Emulator) -> None:
    """acme's user 1 and globex's user 1 share an id but are two people: a mint for one does
    not hold back the other; a second grant of the same user shares that user's limit."""
    two_orgs.clock.freeze()
    first = consent(two_orgs, "acme:1")
    assert consent(two_orgs, "globex:1")["access_token"]
    again = exchange(two_orgs, authorization_code(two_orgs, login_hint="acme:1"))
    assert again.status_code == 429 and again.text == "Retry later"
    assert refresh(two_orgs, first["refresh_token"]).status_code == 429
    two_orgs.clock.advance(60)
    assert refresh(two_orgs, first["refresh_token"]).status_code == 200


def test_the_consent_page_or_the_admin_endpoint_picks_who_consents(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(orgs=(ACME, GLOBEX), auto_consent=False)
    params = authorize_params(emulator)
    page = httpx.get(emulator.oauth_url + "/authorize", params=params)
    assert '<option value="globex:3">' in page.text and '<option value="acme:1">' in page.text
    chosen = {**params, "decision": "allow", "login_hint": "globex:3"}
    code = redirected_params(httpx.post(emulator.oauth_url + "/authorize", data=chosen))["code"]
    tokens = exchange(emulator, code).json()
    assert emulator.grants.access(tokens["access_token"]).grant.org == "globex"  # type: ignore[union-attr]
    hinted = httpx.get(emulator.oauth_url + "/authorize", params={**params, "login_hint": "acme:2"})
    assert "<select" not in hinted.text and 'name="login_hint" value="acme:2"' in hinted.text
    unknown = httpx.get(
        emulator.oauth_url + "/authorize", params={**params, "login_hint": "initech:1"}
    )
    assert unknown.status_code == 400 and "Unknown user" in unknown.text
    emailed = {**params, "decision": "allow", "login_hint": "ada@example.com"}
    code = redirected_params(httpx.post(emulator.oauth_url + "/authorize", data=emailed))["code"]
    grant = emulator.grants.access(exchange(emulator, code).json()["access_token"]).grant  # type: ignore[union-attr]
    assert (grant.org, grant.user_id) == ("acme", 1)  # type: ignore[union-attr]
    admin = httpx.Client(base_url=emulator.base_url + "/_emulator")
    picked = admin.post("/grants/authorizing-user", json={"org": "globex", "user_id": 4})
    assert picked.json() == {"user_id": 4, "org": "globex"}
    assert admin.post("/grants/authorizing-user", json={"org": "acme", "user_id": 99}).status_code
    code = redirected_params(
        httpx.post(emulator.oauth_url + "/authorize", data={**params, "decision": "allow"})
    )["code"]
    grant = emulator.grants.access(exchange(emulator, code).json()["access_token"]).grant  # type: ignore[union-attr]
    assert (grant.org, grant.user_id) == ("globex", 4)  # type: ignore[union-attr]
    issued = admin.post("/grants", json={"scopes": ["users.read"], "org": "acme", "user_id": 5})
    assert emulator.grants.access(issued.json()["access_token"]).org == "acme"  # type: ignore[union-attr]
    admin.close()


def test_without_orgs_one_default_org_serves_the_configured_data() -> None:
    """No orgs configured is today's emulator: one org, ``default``, the config's seed and
    scale; ``--orgs N``'s first org holds the same data."""
    single = Emulator(EmulatorConfig(seed=3, scale=40))
    assert list(single.orgs) == ["default"] and single.data is single.org().data
    numbered = Emulator(EmulatorConfig(seed=3, scale=40, orgs=numbered_orgs(2, 3, 40)))
    assert list(numbered.orgs) == ["org1", "org2"]
    assert numbered.org().data.records("prospects") == single.data.records("prospects")
    assert len(numbered.org("org2").data.records("prospects")) == 20
    assert single.grants.issue(["users.read"])["access_token"]
    with pytest.raises(ValueError, match="no user 1 in org 'org2'"):
        single.grants.issue(["users.read"], org="org2")


def test_org_specs_from_the_command_line() -> None:
    parser = argparse.ArgumentParser()
    emulator_command.register(parser)

    def orgs(*argv: str) -> tuple[OrgSpec, ...]:
        return emulator_command.config_from(parser.parse_args(list(argv))).orgs

    assert orgs() == ()
    assert orgs("--orgs", "2", "--seed", "5", "--scale", "100") == (
        OrgSpec("org1", 5, 100),
        OrgSpec("org2", 6, 50),
    )
    assert orgs("--org", "acme:2000", "--org", "globex:500:9:300", "--org", "initech") == (
        OrgSpec("acme", 1, 2000),
        OrgSpec("globex", 9, 500, rate_limit=300),
        OrgSpec("initech", 3, 2000),
    )
    for bad in (["--org", "acme:x"], ["--org", "Acme"], ["--org", "a", "--org", "a"]):
        with pytest.raises(emulator_command.UserFacingError):
            orgs(*bad)


def test_command_serves_several_orgs() -> None:
    command = [sys.executable, "-m", "outreach_pipeline.cli", "emulator", "--auto-consent"]
    command += ["--org", "acme:60", "--org", "globex:90:4"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout is not None
        match = LISTENING.match(process.stdout.readline())
        assert match
        described = process.stdout.readline().strip()
        assert described == (
            "orgs: acme (seed 1, scale 60, users 1..5), globex (seed 4, scale 90, users 1..5)"
        )
        base_url, api_url = match.groups()
        with httpx.Client(base_url=base_url + "/_emulator") as admin:
            token = admin.post(
                "/grants", json={"scopes": ["prospects.read"], "org": "globex", "user_id": 2}
            ).json()["access_token"]
            listing = httpx.get(
                api_url + "/prospects",
                params={"page[size]": 1000},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert (
                listing.json()["data"]
                == admin.get("/records/prospects", params={"org": "globex"}).json()["data"]
            )
            assert len(listing.json()["data"]) == 90
        process.terminate()
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
