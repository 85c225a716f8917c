"""``Retry-After`` as RFC 9110 has it, and the retry policies' figures in docs/contracts.md
("Retries"): the code's defaults, and the worst case that follows from them. (The waits
themselves, through real servers: tests/hostile/test_oauth_retry_after.py and
test_api_retry_after.py.)"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import dagster as dg
import pytest

from outreach_pipeline.catalog import default_streams
from outreach_pipeline.defs.assets import TRANSIENT_RETRY
from outreach_pipeline.retry import (
    API_REQUESTS,
    TOKEN_REQUESTS,
    locked_file,
    retry_after_seconds,
    utc_time,
)
from outreach_pipeline.sync import SyncOptions

CONTRACTS = Path(__file__).resolve().parents[1] / "docs" / "contracts.md"
NOW = 1_900_000_000.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (format_datetime(datetime.fromtimestamp(NOW + 90, UTC), usegmt=True), 90.0),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),  # in the past: now
        ("Sunday, 06-Nov-94 08:49:37 GMT", 0.0),  # RFC 850 form
        ("Sun Nov  6 08:49:37 1994", 0.0),  # asctime form, no zone: GMT
        ("99999999999999999999", 1e20),  # a budget refuses it, it is not misread
        ("-5", None),
        ("+5", None),
        ("1e3", None),
        ("inf", None),
        ("nan", None),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value: str, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


def test_a_time_past_any_calendar_is_said_in_words() -> None:
    assert utc_time(NOW) == "2030-03-17 17:46:40 UTC"
    assert utc_time(1e20) == "a very late time"


def _retries_section() -> str:
    text = CONTRACTS.read_text(encoding="utf-8")
    return text.split("## Retries", 1)[1].split("\n## ", 1)[0]


def _seconds(value: float) -> str:
    return f"{value:,.1f}".removesuffix(".0") + " s"


def _longest_step_delays() -> float:
    """Dagster's delays between the step's runs, each at the top of its jitter."""
    assert TRANSIENT_RETRY.jitter == dg.Jitter.PLUS_MINUS and TRANSIENT_RETRY.delay is not None
    unjittered = dg.RetryPolicy(
        max_retries=TRANSIENT_RETRY.max_retries,
        delay=TRANSIENT_RETRY.delay,
        backoff=TRANSIENT_RETRY.backoff,
    )
    return sum(
        unjittered.calculate_delay(n) + TRANSIENT_RETRY.delay
        for n in range(1, TRANSIENT_RETRY.max_retries + 1)
    )


def test_the_per_layer_figures_are_the_defaults() -> None:
    section = _retries_section()
    token, api = TOKEN_REQUESTS, API_REQUESTS
    token_row = next(line for line in section.splitlines() if "`TOKEN_REQUESTS`" in line)
    api_row = next(line for line in section.splitlines() if "`API_REQUESTS`" in line)
    assert f"| {token.attempts}, each up to {_seconds(token.attempt_timeout or 0)} |" in token_row
    assert f"{_seconds(token.initial_wait)} → {_seconds(token.max_wait)}" in token_row
    assert f"{_seconds(token.longest_backoff())} of backoff" in token_row
    assert f"{_seconds(token.max_total_wait)} with `Retry-After`" in token_row
    assert f"| {api.attempts} (" in api_row
    assert f"{_seconds(api.initial_wait)} → {_seconds(api.max_wait)}" in api_row
    assert f"{_seconds(api.longest_backoff())} of backoff" in api_row
    assert f"{_seconds(api.max_total_wait)} with `Retry-After`" in api_row
    lock = locked_file(120.0)
    assert f"{lock.initial_wait * 1000:.0f} ms → {_seconds(lock.max_wait)}" in section
    assert f"| 1 + {TRANSIENT_RETRY.max_retries} |" in section
    assert f"{_seconds(_longest_step_delays())} between the {TRANSIENT_RETRY.max_retries + 1}" in (
        section
    )


def test_the_worst_case_follows_from_the_defaults() -> None:
    section = " ".join(_retries_section().split())
    streams, at_once = len(default_streams()), SyncOptions().concurrency
    in_sequence = 1 + math.ceil(streams / at_once)  # the clock probe, then rounds of streams
    step_runs = TRANSIENT_RETRY.max_retries + 1
    per_step = in_sequence * API_REQUESTS.longest_backoff()
    failing_fast = step_runs * per_step + _longest_step_delays()
    waiting = step_runs * in_sequence * API_REQUESTS.max_total_wait + _longest_step_delays()
    assert f"the {streams} streams' first pages, {at_once} at a time" in section
    assert f"{in_sequence} requests one after another" in section
    assert f"{_seconds(per_step)} in all" in section
    assert f"**{_seconds(failing_fast)} ({failing_fast / 60:.0f} min)**" in section
    assert f"**{_seconds(waiting)} ({waiting / 3600:.0f} h)**" in section
