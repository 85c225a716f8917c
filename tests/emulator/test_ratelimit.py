"""Rate limit: headers on every API answer, 429 with Retry-After, reset with the clock."""

from __future__ import annotations

import math

from outreach_emulator.ratelimit import WINDOW
from tests.emulator.support import api_client

HOUR_START = 1_800_000_000 - 1_800_000_000 % WINDOW


def test_headers_count_down_per_user(make_emulator) -> None:
    emulator = make_emulator(rate_limit=50, clock_frozen_at=HOUR_START + 10)
    with api_client(emulator, user_id=1) as first, api_client(emulator, user_id=2) as second:
        one = first.get("/prospects")
        two = first.get("/prospects")
        other = second.get("/prospects")
    assert one.headers["X-RateLimit-Limit"] == "50"
    assert one.headers["X-RateLimit-Remaining"] == "49"
    assert two.headers["X-RateLimit-Remaining"] == "48"
    assert other.headers["X-RateLimit-Remaining"] == "49"
    assert one.headers["X-RateLimit-Reset"] == str(HOUR_START + WINDOW)


def test_over_the_limit_answers_429_until_the_window_resets(make_emulator) -> None:
    emulator = make_emulator(rate_limit=3, clock_frozen_at=HOUR_START + 100)
    with api_client(emulator) as client:
        for _ in range(3):
            assert client.get("/users").status_code == 200
        refused = client.get("/users")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == str(WINDOW - 100)
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        error = refused.json()["errors"][0]
        assert error["id"] == "rateLimitExceeded"
        assert error["title"] == "Rate Limit Exceeded"
        assert "permitted rate limit of 3" in error["detail"]
        emulator.clock.advance(WINDOW - 100)
        again = client.get("/users")
    assert again.status_code == 200
    assert again.headers["X-RateLimit-Remaining"] == "2"


def test_errors_carry_the_headers_too(make_emulator) -> None:
    emulator = make_emulator()
    with api_client(emulator, ["prospects.read"]) as client:
        forbidden = client.get("/mailings")
    assert forbidden.status_code == 403
    assert "X-RateLimit-Remaining" in forbidden.headers


def test_two_value_remaining_form(make_emulator) -> None:
    emulator = make_emulator(rate_limit=10_000, rate_limit_two_values=True)
    with api_client(emulator) as client:
        remaining = client.get("/users").headers["X-RateLimit-Remaining"]
    assert remaining == "9999, 19999"


def test_retry_after_is_whole_seconds_on_a_ticking_clock(make_emulator) -> None:
    emulator = make_emulator(rate_limit=1)
    with api_client(emulator) as client:
        client.get("/users")
        refused = client.get("/users")
    reset = int(refused.headers["X-RateLimit-Reset"])
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= math.ceil(reset - emulator.clock.now()) + 1
