"""Issue 15, item 1: the bearer token goes to the configured API and nowhere else.

A page's ``links.next`` (or a resume link saved by an earlier run, or a redirect) naming
another host, port or scheme, carrying userinfo, escaping the API's path, or spelled so that
parsers could disagree, stops the stream with one line: no request is sent there, no token
refreshed, the grant untouched, and the rows of the pages before kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from outreach_pipeline.landing import StreamState
from tests.hostile.server import HostileServer, Reply, Seen, page
from tests.hostile.sync_support import (
    TOKEN,
    landed_ids,
    run_rows,
    settings_for,
    store_grant,
    stored_grant,
    sync_users,
    token_reply,
    user,
)

FOREIGN_LINKS: dict[str, Callable[[HostileServer, HostileServer], str]] = {
    "other port": lambda api, other: f"{other.url}/api/v2/users?page[after]=2",
    "protocol-relative": lambda api, other: f"//127.0.0.1:{other.port}/api/v2/users",
    "userinfo": lambda api, other: f"http://127.0.0.1:{api.port}@127.0.0.1:{other.port}/api/v2/u",
    "backslash userinfo": lambda api, other: (
        f"http://127.0.0.1:{other.port}\\@127.0.0.1:{api.port}/api/v2/users"
    ),
    "other host name": lambda api, other: f"http://localhost:{api.port}/api/v2/users?page[after]=2",
    "other scheme": lambda api, other: f"https://127.0.0.1:{api.port}/api/v2/users",
    "outside the prefix": lambda api, other: f"{api.url}/oauth/token?page[after]=2",
    "dot segments": lambda api, other: f"{api.url}/api/v2/../../oauth/token",
    "encoded dot segments": lambda api, other: f"{api.url}/api/v2/%2E%2e/%2e%2E/oauth/token",
    "relative escape": lambda api, other: "../../oauth/token?page[after]=2",
    "tab in host": lambda api, other: f"http://127.0.0.1:{other.port}\t/api/v2/users",
    "non-ASCII host": lambda api, other: "http://exämple.invalid/api/v2/users",
    "port out of range": lambda api, other: "http://127.0.0.1:99999/api/v2/users",
}


def _answer_with_next(link: Callable[[], str]) -> Callable[[Seen], Reply]:
    def answer(seen: Seen) -> Reply:
        refresh = token_reply(seen)
        if refresh is not None:
            return refresh
        if seen.query.get("page[after]"):
            return Reply(body=page([user(99)]))
        return Reply(body=page([user(1), user(2)], link()))

    return answer


def _refused_cleanly(api: HostileServer, foreign: HostileServer, settings, result) -> None:
    assert result.error is not None and "\n" not in result.error
    assert "is asked)" in result.error, result.error
    assert foreign.seen == []
    assert all("page[after]" not in seen.query for seen in api.seen)
    assert api.requests_to("/oauth") == []  # no refresh
    grant = stored_grant(settings)
    assert grant.access_token.reveal() == TOKEN and grant.reauthorization is None
    assert landed_ids(settings) == [1, 2]
    assert run_rows(settings)[-1][1] == result.error


@pytest.mark.parametrize("form", sorted(FOREIGN_LINKS))
def test_a_next_link_off_the_api_is_never_asked(tmp_path: Path, form: str) -> None:
    with HostileServer(lambda seen: Reply(status=401, body=b'{"error":"Invalid JWT"}')) as foreign:
        holder: list[HostileServer] = []
        answer = _answer_with_next(lambda: FOREIGN_LINKS[form](holder[0], foreign))
        with HostileServer(answer) as api:
            holder.append(api)
            settings = settings_for(api, tmp_path)
            store_grant(settings)
            result = sync_users(settings)
            _refused_cleanly(api, foreign, settings, result)


@pytest.mark.parametrize("form", ["userinfo", "dot segments", "encoded dot segments"])
def test_a_saved_resume_link_off_the_api_is_not_followed(tmp_path: Path, form: str) -> None:
    with (
        HostileServer(lambda seen: Reply(status=401)) as foreign,
        HostileServer(_answer_with_next(lambda: "")) as api,
    ):
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        saved = StreamState(
            cursor="2024-01-01T00:00:00.000Z",
            resume_url=FOREIGN_LINKS[form](api, foreign),
            resume_cursor="2024-06-01T00:00:00.000Z",
        )
        result = sync_users(settings, state=saved)
        assert result.ok, result.error
        assert foreign.seen == [] and api.requests_to("/oauth") == []
        assert landed_ids(settings) == [1, 2]


def test_a_redirect_is_not_followed(tmp_path: Path) -> None:
    with HostileServer(lambda seen: Reply(status=401)) as foreign:

        def answer(seen: Seen) -> Reply:
            location = f"{foreign.url}/api/v2/users"
            return Reply(status=302, headers={"Location": location}, body=b"")

        with HostileServer(answer) as api:
            settings = settings_for(api, tmp_path)
            store_grant(settings)
            result = sync_users(settings)
            assert result.error is not None and "redirects are not followed" in result.error
            assert foreign.seen == [] and api.requests_to("/oauth") == []
            assert stored_grant(settings).access_token.reveal() == TOKEN
