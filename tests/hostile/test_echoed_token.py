"""Issue 15, item 3 (part): an error body that echoes the request cannot put the token in a
log line, the stream's error, or the DuckDB file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from outreach_pipeline.auth import build_auth
from outreach_pipeline.client import FetchError, JsonApiClient, RateBudget
from tests.hostile.server import HostileServer, Reply, Seen, json_reply, page
from tests.hostile.sync_support import (
    NEW_TOKEN,
    TOKEN,
    landed_ids,
    run_rows,
    settings_for,
    store_grant,
    sync_users,
    user,
)


def _echo_403(seen: Seen) -> Reply:
    detail = f"request was: {seen.method} {seen.target} Authorization: {seen.authorization}"
    return json_reply({"errors": [{"id": "unauthorizedRequest", "detail": detail}]}, status=403)


def _echo_400_at_the_cut(seen: Seen) -> Reply:
    # The bare token (no "Bearer" before it) across the 300th character of the body.
    token = (seen.authorization or "").removeprefix("Bearer ")
    return Reply(status=400, body=b"x" * 280 + token.encode(), content_type="text/plain")


@pytest.mark.parametrize("echo", [_echo_403, _echo_400_at_the_cut])
def test_an_echoed_token_is_shown_and_stored_nowhere(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    echo,
) -> None:
    caplog.set_level(logging.DEBUG)

    def answer(seen: Seen) -> Reply:
        if seen.query.get("page[after]") == "2":
            return echo(seen)
        return Reply(body=page([user(1), user(2)], "?page[after]=2"))

    with HostileServer(answer) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        result = sync_users(settings)
        assert [s.authorization for s in api.seen][-1] == f"Bearer {TOKEN}"
    assert result.error is not None and "HTTP 4" in result.error
    assert landed_ids(settings) == [1, 2]
    assert run_rows(settings)[-1][1] == result.error
    out, err = capfd.readouterr()
    shown = [result.error, caplog.text, out, err]
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("landing.duckdb*"))
    for token in (TOKEN, NEW_TOKEN):
        assert all(token not in text for text in shown)
        assert token.encode() not in stored
    # Not even its start: a token across the cut is masked before the cut.
    assert all(TOKEN[:16] not in text for text in shown)
    assert TOKEN[:16].encode() not in stored


@pytest.mark.parametrize("echo", [_echo_403, _echo_400_at_the_cut])
def test_the_clients_error_for_an_echoing_answer_holds_no_token(tmp_path: Path, echo) -> None:
    with HostileServer(echo) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        client = JsonApiClient(settings.api_url, build_auth(settings), RateBudget())
        with client, pytest.raises(FetchError) as raised:
            client.fetch_page(f"{settings.api_url}/users")
    assert raised.value.status in (400, 403)
    assert TOKEN[:16] not in str(raised.value)
