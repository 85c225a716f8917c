"""Issue 15, item 9: a next link no parser reads ends that stream with one line, keeping
what landed, holding no decoding slot (the other streams of the run go on), and any
exception at all leaves the stream's row in ``outreach.sync_runs``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from outreach_pipeline.auth.errors import ReauthorizationRequired
from tests.hostile.server import HostileServer, Reply, Seen, json_reply, page
from tests.hostile.sync_support import (
    landed_ids,
    run_rows,
    settings_for,
    store_grant,
    sync_users,
    user,
)

MALFORMED = {
    "unclosed IPv6 bracket": "http://[::1/x",
    "64 KB long": "/api/v2/users?page[after]=" + "a" * 70_000,
    "NUL byte": "/api/v2/users?page[after]=\x00",
    "newline": "/api/v2/users?page[after]=1\r\nX-Injected: 1",
    "empty port": "http://127.0.0.1:/api/v2/users",
    "bad port": "http://127.0.0.1:8o/api/v2/users",
}


@pytest.mark.parametrize("form", sorted(MALFORMED))
def test_a_malformed_next_link_ends_the_stream_cleanly_and_frees_its_slot(tmp_path, form):
    def answer(seen: Seen) -> Reply:
        if seen.query.get("page[size]") == "1":  # the clock probe: the listing holds the link
            return Reply(body=page([user(1)]))
        return Reply(body=page([user(1), user(2)], MALFORMED[form]))

    decoding = threading.BoundedSemaphore(1)
    with HostileServer(answer) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        result = sync_users(settings, decoding=decoding)
        assert result.error is not None and "\n" not in result.error
        assert len(result.error) < 1000
        assert landed_ids(settings) == [1, 2]
        assert run_rows(settings)[-1][1] == result.error
        assert len(api.seen) == 2  # the clock probe and the first page, nothing after
    # The slot is free: another stream of the run can decode.
    assert decoding.acquire(blocking=False)


def test_an_exception_other_than_a_stream_failure_is_recorded_then_raised(tmp_path: Path):
    """The grant dies mid-run (401, then ``invalid_grant`` on refresh): the run row is there."""

    def answer(seen: Seen) -> Reply:
        if seen.path.startswith("/oauth/token"):
            return json_reply({"error": "invalid_grant"}, status=400)
        return Reply(status=401, body=b'{"error":"Invalid JWT token."}')

    with HostileServer(answer) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        with pytest.raises(ReauthorizationRequired):
            sync_users(settings)
        [(stream, error)] = run_rows(settings)
        assert stream == "users" and "ReauthorizationRequired" in error
