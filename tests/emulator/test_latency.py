"""The latency profile: seeded draws around a median that grows with the page, a long tail;
and the API conditions that go with it (502 on big pages, burst 429s, a shorter "hour")."""

from __future__ import annotations

import random
import statistics
import time

import httpx
import pytest

from outreach_emulator import Emulator
from outreach_emulator.faults import BIG_PAGE_RECORDS, Faults
from outreach_emulator.latency import LATENCY_PROFILES, latency_model
from tests.emulator.support import api_client

REALISTIC = LATENCY_PROFILES["realistic"]


@pytest.fixture
def client(emulator: Emulator):
    with api_client(emulator) as client:
        yield client


def test_draws_follow_the_model_median_tail_and_page_size() -> None:
    assert REALISTIC is not None
    rng = random.Random(7)
    small = sorted(REALISTIC.draw(10, rng) for _ in range(20_000))
    big = sorted(REALISTIC.draw(1000, rng) for _ in range(20_000))
    assert statistics.median(small) == pytest.approx(REALISTIC.median(10), rel=0.05)
    assert statistics.median(big) == pytest.approx(REALISTIC.median(1000), rel=0.05)
    assert 0.25 <= statistics.median(big) <= 0.4 < statistics.median(big) * 1.2 < 1
    assert statistics.median(big) > 1.5 * statistics.median(small)
    p99 = big[int(0.99 * len(big))]
    assert 2.0 <= p99 <= 4.0
    assert p99 == pytest.approx(REALISTIC.quantile(1000, 2.326), rel=0.1)
    assert statistics.fmean(big) == pytest.approx(REALISTIC.expected(1000), rel=0.05)


def test_delays_are_seeded_and_leave_the_fault_sequence_alone() -> None:
    def run(seed: int, latency: bool) -> tuple[list[float], list[bool]]:
        faults = Faults(seed)
        faults.set(error_rate=0.3, latency_profile="realistic" if latency else "none")
        delays, failed = [], []
        for records in (0, 1000, 10, 1000):
            delays.append(faults.profile_delay(records))
            failed.append(faults.intercept() is not None)
        return delays, failed

    assert run(3, True) == run(3, True)
    assert run(3, True)[0] != run(4, True)[0]
    assert run(3, True)[1] == run(3, False)[1]
    assert run(3, False)[0] == [0.0] * 4


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown latency profile"):
        latency_model("slow")
    with pytest.raises(ValueError, match="unknown latency profile"):
        Faults(1).set(latency_profile="slow")


def test_profile_delays_answers_over_http(emulator: Emulator, client: httpx.Client) -> None:
    emulator.faults.set(latency_profile="realistic")
    started = time.perf_counter()
    for _ in range(5):
        assert client.get("/prospects", params={"page[size]": 1000}).status_code == 200
    # Five draws all under 60 ms would be a 1-in-10^9 seed; none is added without the profile.
    assert time.perf_counter() - started > 0.3


def test_big_pages_answer_502_small_ones_do_not(emulator: Emulator, client: httpx.Client) -> None:
    emulator.faults.set(big_page_error_rate=1.0)
    assert client.get("/mailings", params={"page[size]": BIG_PAGE_RECORDS}).status_code == 502
    assert client.get("/mailings", params={"page[size]": 100}).status_code == 200
    assert emulator.stats["faults"] == {"big_page_502": 1}


def test_throttle_answers_429_with_a_short_retry_after(
    emulator: Emulator, client: httpx.Client
) -> None:
    emulator.faults.set(throttle_rate=1.0)
    refused = client.get("/users")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["errors"][0]["id"] == "rateLimitExceeded"


def test_a_shorter_window_resets_the_budget_sooner(make_emulator) -> None:
    emulator = make_emulator(rate_limit=2, rate_limit_window=36, clock_frozen_at=1_800_000_010)
    with api_client(emulator) as client:
        assert [client.get("/users").status_code for _ in range(3)] == [200, 200, 429]
        refused = client.get("/users")
        assert refused.headers["X-RateLimit-Reset"] == str(1_800_000_036)
        assert refused.headers["Retry-After"] == "26"
        emulator.clock.advance(26)
        assert client.get("/users").status_code == 200
