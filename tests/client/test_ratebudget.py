"""The shared rate budget: headers read right, the limit never exceeded by many threads."""

from __future__ import annotations

import threading
import time

from outreach_pipeline.client import RateBudget, read_rate_headers
from outreach_pipeline.client.ratebudget import RateHeaders
from outreach_pipeline.transport import Interrupted


def test_two_value_remaining_keeps_the_smaller():
    headers = {"x-ratelimit-remaining": "9999, 19988", "x-ratelimit-reset": "1800000000"}
    assert read_rate_headers(headers, now=0) == RateHeaders(None, 9999, 1_800_000_000.0)
    headers = {"x-ratelimit-remaining": "30, 7", "x-ratelimit-limit": "100"}
    assert read_rate_headers(headers, now=0).remaining == 7


def test_a_small_reset_is_seconds_from_now():
    assert read_rate_headers({"x-ratelimit-reset": "30"}, now=1000.0).reset_at == 1030.0


class FakeServer:
    """Fixed hourly windows of ``limit`` requests on a fake clock that ``sleep`` moves."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.now = 1_800_000_000.0
        self.lock = threading.Lock()
        self.used: dict[int, int] = {}
        self.refused = 0
        self.served = 0

    def clock(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds

    def request(self) -> RateHeaders:
        with self.lock:
            window = int(self.now // 3600)
            used = self.used.get(window, 0)
            if used >= self.limit:
                self.refused += 1
            else:
                used = self.used[window] = used + 1
                self.served += 1
            return RateHeaders(self.limit, self.limit - used, (window + 1) * 3600.0)


def test_concurrent_requests_never_exceed_the_limit():
    server = FakeServer(limit=25)
    budget = RateBudget(reserve=2, clock=server.clock, sleep=server.sleep)

    def worker() -> None:
        for _ in range(40):
            budget.acquire()
            budget.release(server.request())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert server.refused == 0
    assert server.served == 320
    assert max(server.used.values()) <= 25 - 2


def test_a_429_pauses_everyone_until_the_reset():
    server = FakeServer(limit=10)
    budget = RateBudget(clock=server.clock, sleep=server.sleep)
    budget.acquire()
    budget.release(server.request())
    budget.exhausted(server.now + 120)
    before = server.now
    budget.acquire()
    assert server.now >= before + 120


def test_a_low_budget_is_spread_until_the_reset():
    server = FakeServer(limit=100)
    budget = RateBudget(reserve=2, low_water=0.1, clock=server.clock, sleep=server.sleep)
    server.used[int(server.now // 3600)] = 92  # 8 left, 6 spendable: below 10% of 100
    reset = (int(server.now // 3600) + 1) * 3600.0
    budget.acquire()
    budget.release(server.request())  # 7 left
    started = server.now
    budget.acquire()
    budget.release(server.request())
    gap = server.now - started
    assert gap > 0 and abs(gap - (reset - started) / 5) < 1.0
    assert server.refused == 0


def _granted_without_waiting(budget: RateBudget, asked: int) -> int:
    """How many of ``asked`` concurrent requests ``budget`` lets go before one answer."""
    stop = threading.Event()
    granted = []

    def ask() -> None:
        try:
            budget.acquire(stop)
        except Interrupted:
            return
        granted.append(1)

    threads = [threading.Thread(target=ask) for _ in range(asked)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    return len(granted)


def test_processes_sharing_a_user_cannot_overrun_it_together():
    """Four processes (four budgets) heard the same answer: 42 left, 40 above the reserve.
    Their requests in flight are counted nowhere but in each, so each may have a quarter of
    what is left in flight: together never more than the 40 (each alone would take 40)."""
    server = FakeServer(limit=100)
    server.used[int(server.now // 3600)] = 57
    answer = server.request()
    assert answer.remaining == 42
    budgets = [RateBudget(reserve=2, low_water=0.0, clock=server.clock) for _ in range(4)]
    for budget in budgets:
        budget.acquire()
        budget.release(answer)
    in_flight = [_granted_without_waiting(budget, asked=40) for budget in budgets]
    assert in_flight == [10, 10, 10, 10]
    alone = RateBudget(reserve=2, low_water=0.0, share=1.0, clock=server.clock)
    alone.acquire()
    alone.release(answer)
    assert _granted_without_waiting(alone, asked=50) == 40


def test_a_nearly_spent_budget_still_lets_one_request_go():
    server = FakeServer(limit=100)
    server.used[int(server.now // 3600)] = 96
    budget = RateBudget(reserve=2, low_water=0.0, clock=server.clock)
    budget.acquire()
    budget.release(server.request())  # 3 left, 1 above the reserve: a quarter of it is < 1
    assert _granted_without_waiting(budget, asked=3) == 1
