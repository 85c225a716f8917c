"""OAuth over real HTTP: consent, code exchange, refresh rotation, expiry, revocation, faults."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import httpx
import pytest

from outreach_emulator import Emulator
from outreach_emulator.grants import NEWER_REFRESH_LIMIT
from tests.emulator.support import (
    authorization_code,
    authorize_params,
    exchange,
    redirected_params,
    refresh,
    token_request,
)

DAY = 24 * 3600
MINUTE = 60  # at most one token minted per user and minute (token_mint_interval)


def test_auto_consent_redirects_with_a_code_and_the_state_untouched(emulator: Emulator) -> None:
    params = authorize_params(emulator)
    response = httpx.get(emulator.oauth_url + "/authorize", params=params)
    back = redirected_params(response)
    assert response.headers["location"].startswith(emulator.config.redirect_uris[0] + "?")
    assert back["state"] == params["state"]
    assert back["code"]


def test_code_exchange_answers_the_documented_token_body(emulator: Emulator) -> None:
    response = exchange(emulator, authorization_code(emulator))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "created_at",
    }
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 7200
    assert body["scope"] == "prospects.read users.read"
    assert abs(body["created_at"] - emulator.clock.now()) < 5
    api = httpx.get(
        emulator.api_url + "/prospects",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert api.status_code == 200


def test_consent_page_allow_and_deny(make_emulator) -> None:
    emulator = make_emulator(auto_consent=False)
    params = authorize_params(emulator)
    page = httpx.get(emulator.oauth_url + "/authorize", params=params)
    assert page.status_code == 200
    assert 'value="allow"' in page.text and 'value="deny"' in page.text
    allowed = httpx.post(emulator.oauth_url + "/authorize", data={**params, "decision": "allow"})
    back = redirected_params(allowed)
    assert back["state"] == params["state"] and back["code"]
    assert exchange(emulator, back["code"]).status_code == 200
    denied = httpx.post(emulator.oauth_url + "/authorize", data={**params, "decision": "deny"})
    assert redirected_params(denied) == {"error": "access_denied", "state": params["state"]}


@pytest.mark.parametrize(
    "override",
    [{"client_id": "someone-else"}, {"redirect_uri": "http://127.0.0.1:8976/other"}],
    ids=["unknown client", "unregistered redirect"],
)
def test_bad_client_or_redirect_gets_a_page_never_a_redirect(
    emulator: Emulator, override: dict[str, str]
) -> None:
    response = httpx.get(
        emulator.oauth_url + "/authorize", params=authorize_params(emulator, **override)
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("scope", ["prospects.read nonsense.read", "prospects.peek", ""])
def test_unknown_scope_redirects_with_invalid_scope(emulator: Emulator, scope: str) -> None:
    response = httpx.get(
        emulator.oauth_url + "/authorize", params=authorize_params(emulator, scope=scope)
    )
    assert redirected_params(response)["error"] == "invalid_scope"


def test_wrong_response_type_is_redirected_as_an_error(emulator: Emulator) -> None:
    params = authorize_params(emulator, response_type="token")
    response = httpx.get(emulator.oauth_url + "/authorize", params=params)
    assert redirected_params(response)["error"] == "unsupported_response_type"


def test_code_is_single_use(emulator: Emulator) -> None:
    code = authorization_code(emulator)
    assert exchange(emulator, code).status_code == 200
    reused = exchange(emulator, code)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


def test_code_expires_after_ten_minutes(emulator: Emulator) -> None:
    code = authorization_code(emulator)
    emulator.clock.advance(601)
    assert exchange(emulator, code).json()["error"] == "invalid_grant"


def test_code_exchange_needs_the_same_redirect_uri(make_emulator) -> None:
    emulator = make_emulator(
        redirect_uris=("http://127.0.0.1:8976/callback", "http://localhost:9999/cb")
    )
    code = authorization_code(emulator)
    response = token_request(
        emulator,
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://localhost:9999/cb",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_bad_client_secret_is_invalid_client(emulator: Emulator) -> None:
    code = authorization_code(emulator)
    response = token_request(
        emulator,
        client_secret="emulator-secret",  # the default without its +&=/% tail
        grant_type="authorization_code",
        code=code,
        redirect_uri=emulator.config.redirect_uris[0],
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_secret_with_reserved_characters_works_form_encoded_or_basic(emulator: Emulator) -> None:
    assert set("+&=/%") <= set(emulator.config.client_secret)
    code = authorization_code(emulator)
    credentials = f"{quote(emulator.config.client_id)}:{quote(emulator.config.client_secret)}"
    response = httpx.post(
        emulator.oauth_url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": emulator.config.redirect_uris[0],
        },
        headers={"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()},
    )
    assert response.status_code == 200


def test_refresh_rotates_and_single_use_rejects_the_spent_token(emulator: Emulator) -> None:
    first = exchange(emulator, authorization_code(emulator)).json()
    emulator.clock.advance(MINUTE)
    second = refresh(emulator, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    emulator.clock.advance(MINUTE)
    spent = refresh(emulator, first["refresh_token"])
    assert spent.status_code == 400
    assert spent.json()["error"] == "invalid_grant"
    assert refresh(emulator, rotated["refresh_token"]).status_code == 200


def test_lenient_mode_keeps_spent_refresh_tokens_valid(make_emulator) -> None:
    emulator = make_emulator(refresh_mode="lenient")
    first = exchange(emulator, authorization_code(emulator)).json()
    emulator.clock.advance(MINUTE)
    assert refresh(emulator, first["refresh_token"]).status_code == 200
    emulator.clock.advance(MINUTE)
    again = refresh(emulator, first["refresh_token"])
    assert again.status_code == 200
    assert again.json()["refresh_token"] != first["refresh_token"]


def test_refresh_accepts_an_optional_redirect_uri(emulator: Emulator) -> None:
    first = exchange(emulator, authorization_code(emulator)).json()
    emulator.clock.advance(MINUTE)
    response = refresh(
        emulator, first["refresh_token"], redirect_uri=emulator.config.redirect_uris[0]
    )
    assert response.status_code == 200


def test_refresh_token_expires_after_fourteen_days(emulator: Emulator) -> None:
    tokens = emulator.grants.issue(["prospects.read"])
    emulator.clock.advance(14 * DAY - 60)
    fresh = refresh(emulator, tokens["refresh_token"])
    assert fresh.status_code == 200
    emulator.clock.advance(14 * DAY + 120)
    assert refresh(emulator, fresh.json()["refresh_token"]).json()["error"] == "invalid_grant"


def test_refresh_token_dies_once_a_hundred_newer_ones_exist(make_emulator) -> None:
    emulator = make_emulator(refresh_mode="lenient")
    oldest = emulator.grants.issue(["prospects.read"])["refresh_token"]
    for _ in range(NEWER_REFRESH_LIMIT - 1):
        emulator.grants.issue(["prospects.read"])
    assert refresh(emulator, oldest).status_code == 200  # the 100th newer one is made here
    assert refresh(emulator, oldest).json()["error"] == "invalid_grant"


def test_access_token_expires_with_its_ttl(make_emulator) -> None:
    emulator = make_emulator(access_token_ttl=60)
    token = emulator.grants.issue(["prospects.read"])
    assert token["expires_in"] == 60
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert httpx.get(emulator.api_url + "/prospects", headers=headers).status_code == 200
    emulator.clock.advance(61)
    expired = httpx.get(emulator.api_url + "/prospects", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["error"] == "Invalid JWT token."


def test_revoked_grant_refuses_refresh_and_api(emulator: Emulator) -> None:
    tokens = exchange(emulator, authorization_code(emulator)).json()
    assert emulator.grants.revoke_all() == 1
    assert refresh(emulator, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(emulator.api_url + "/prospects", headers=headers).status_code == 401


def test_development_grants_expire_after_a_week(make_emulator) -> None:
    emulator = make_emulator(dev_client_id="dev-client", dev_client_secret="dev+secret/%")
    code = authorization_code(emulator, client_id="dev-client")
    response = token_request(
        emulator,
        client_id="dev-client",
        client_secret="dev+secret/%",
        grant_type="authorization_code",
        code=code,
        redirect_uri=emulator.config.redirect_uris[0],
    )
    tokens = response.json()
    dev = {"client_id": "dev-client", "client_secret": "dev+secret/%"}
    emulator.clock.advance(6 * DAY)
    tokens = refresh(emulator, tokens["refresh_token"], **dev).json()
    assert "refresh_token" in tokens
    emulator.clock.advance(DAY + 60)
    assert refresh(emulator, tokens["refresh_token"], **dev).json()["error"] == "invalid_grant"


def test_expire_development_forces_it_now_and_spares_production(make_emulator) -> None:
    emulator = make_emulator(dev_client_id="dev-client", dev_client_secret="dev-secret")
    dev = emulator.grants.issue(["prospects.read"], kind="development")
    production = emulator.grants.issue(["prospects.read"])
    assert emulator.grants.expire_development() == 1
    dev_form = {"client_id": "dev-client", "client_secret": "dev-secret"}
    assert refresh(emulator, dev["refresh_token"], **dev_form).status_code == 400
    assert refresh(emulator, production["refresh_token"]).status_code == 200
    headers = {"Authorization": f"Bearer {dev['access_token']}"}
    assert httpx.get(emulator.api_url + "/prospects", headers=headers).status_code == 401


def test_refresh_token_of_another_client_is_refused(make_emulator) -> None:
    emulator = make_emulator(dev_client_id="dev-client", dev_client_secret="dev-secret")
    dev = emulator.grants.issue(["prospects.read"], kind="development")
    assert refresh(emulator, dev["refresh_token"]).json()["error"] == "invalid_grant"


def test_transient_token_faults_answer_plain_text_then_recover(emulator: Emulator) -> None:
    tokens = emulator.grants.issue(["prospects.read"])
    emulator.faults.set(token_failures=[429, 503])
    busy = refresh(emulator, tokens["refresh_token"])
    assert (busy.status_code, busy.text) == (429, "Retry later")
    assert busy.headers["content-type"].startswith("text/plain")
    down = refresh(emulator, tokens["refresh_token"])
    assert (down.status_code, down.text) == (503, "no healthy upstream")
    assert refresh(emulator, tokens["refresh_token"]).status_code == 200


def test_access_tokens_are_jwts_naming_the_authorizing_user(emulator: Emulator) -> None:
    body = exchange(emulator, authorization_code(emulator)).json()
    header, payload, signature = body["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == str(emulator.grants.authorizing_user_id)
    assert claims["exp"] - claims["iat"] == emulator.config.access_token_ttl
    assert signature
    forged = ".".join((header, payload, signature[::-1]))
    answer = httpx.get(emulator.api_url + "/users", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401


def test_a_second_mint_within_a_minute_answers_429_retry_later(emulator: Emulator) -> None:
    first = exchange(emulator, authorization_code(emulator)).json()
    emulator.clock.advance(20)
    busy = refresh(emulator, first["refresh_token"])
    assert (busy.status_code, busy.text) == (429, "Retry later")
    assert busy.headers["Retry-After"] == "40"
    assert exchange(emulator, authorization_code(emulator)).status_code == 429
    emulator.clock.advance(40)
    # The 429 spent nothing: the refresh token still rotates once the minute is over.
    rotated = refresh(emulator, first["refresh_token"])
    assert rotated.status_code == 200
    assert emulator.grants.summary()["mint_limited"] == 2


def test_the_mint_limit_is_per_user_and_switchable(make_emulator) -> None:
    emulator = make_emulator()
    ada = emulator.grants.issue(["prospects.read"], user_id=1)
    bob = emulator.grants.issue(["prospects.read"], user_id=2)
    assert refresh(emulator, ada["refresh_token"]).status_code == 200
    assert refresh(emulator, bob["refresh_token"]).status_code == 200
    unlimited = make_emulator(token_mint_interval=0)
    tokens = unlimited.grants.issue(["prospects.read"])
    for _ in range(3):
        answer = refresh(unlimited, tokens["refresh_token"])
        assert answer.status_code == 200
        tokens = answer.json()


def test_a_refresh_revokes_the_access_token_issued_with_the_spent_refresh_token(
    emulator: Emulator,
) -> None:
    first = emulator.grants.issue(["prospects.read"])
    rotated = refresh(emulator, first["refresh_token"]).json()
    old = httpx.get(
        emulator.api_url + "/prospects",
        headers={"Authorization": f"Bearer {first['access_token']}"},
    )
    assert old.status_code == 401
    new = httpx.get(
        emulator.api_url + "/prospects",
        headers={"Authorization": f"Bearer {rotated['access_token']}"},
    )
    assert new.status_code == 200


def test_old_access_tokens_can_be_kept_valid_after_a_refresh(make_emulator) -> None:
    emulator = make_emulator(old_access_tokens="keep")
    first = emulator.grants.issue(["prospects.read"])
    assert refresh(emulator, first["refresh_token"]).status_code == 200
    headers = {"Authorization": f"Bearer {first['access_token']}"}
    assert httpx.get(emulator.api_url + "/prospects", headers=headers).status_code == 200
