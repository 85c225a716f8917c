"""Issue 15, item 10: an answer too big, or too slow to read, cannot hold a sync.

A body over :class:`PageLimits` ``max_bytes`` fails the stream at once, whether announced by
``Content-Length`` or found while reading (a chunked body is read no further than the cap),
and is not asked again. A body trickled past ``deadline`` is dropped and retried like a
timeout. Either way the rows of the pages before are kept.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from outreach_pipeline.client import PageLimits
from outreach_pipeline.retry import API_REQUESTS
from tests.hostile.server import HostileServer, Reply, Seen, page
from tests.hostile.sync_support import (
    landed_ids,
    run_rows,
    settings_for,
    store_grant,
    sync_users,
    user,
)

CAP = 1024 * 1024
TWO_TRIES = replace(API_REQUESTS, attempts=2, initial_wait=0.01, max_wait=0.02)


def _big_body(sent: list[int]) -> Iterator[bytes]:
    """64 MB of a JSON page, made lazily; ``sent`` counts the chunks the server wrote."""
    yield b'{"data": [], "filler": "'
    for _ in range(1024):
        sent.append(1)
        yield b"x" * 65536
    yield b'"}'


def _second_page(reply: Reply):
    def answer(seen: Seen) -> Reply:
        if seen.query.get("page[after]") == "2":
            return reply
        return Reply(body=page([user(1), user(2)], "?page[after]=2"))

    return answer


@pytest.mark.parametrize("announced", [True, False])
def test_a_body_over_the_cap_fails_the_stream_at_once(tmp_path: Path, announced: bool) -> None:
    sent: list[int] = []
    length = 64 * 1024 * 1024 + 26 if announced else None
    reply = Reply(body=_big_body(sent), content_length=length)
    with HostileServer(_second_page(reply)) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        result = sync_users(settings, limits=PageLimits(max_bytes=CAP))
        assert result.error is not None and f"over the {CAP}-byte limit" in result.error
        asked = [seen for seen in api.seen if seen.query.get("page[after]") == "2"]
        assert len(asked) == 1  # not asked again
        assert landed_ids(settings) == [1, 2]
        assert run_rows(settings)[-1][1] == result.error
    # The client stopped reading at the cap (the socket buffers hold a few MB at most).
    assert len(sent) < 200


def test_a_trickled_body_is_dropped_at_the_deadline_and_retried(tmp_path: Path) -> None:
    trickled = Reply(body=[b"{"] + [b" "] * 100 + [b'"data": []}'], chunk_delay=0.1)
    with HostileServer(_second_page(trickled)) as api:
        settings = settings_for(api, tmp_path)
        store_grant(settings)
        started = time.monotonic()
        result = sync_users(settings, limits=PageLimits(deadline=0.5), retry=TWO_TRIES)
        assert time.monotonic() - started < 5
        assert result.error is not None and "s deadline" in result.error
        assert len([seen for seen in api.seen if seen.query.get("page[after]") == "2"]) == 2
        assert landed_ids(settings) == [1, 2]
