"""Secrets the process holds never survive :func:`redact`, whoever echoes them."""

from __future__ import annotations

from outreach_pipeline.redaction import MASK, redact, redact_and_cap
from outreach_pipeline.settings import Secret


def test_a_held_secret_is_masked_wherever_it_appears():
    token = Secret("tok-" + "a1b2c3d4e5" * 3)
    echoed = f'{{"error": "bad request", "echo": "GET /x?t={token.reveal()}"}}'
    assert token.reveal() not in redact(echoed)
    assert MASK in redact(echoed)


def test_token_shaped_credentials_are_masked_even_when_not_held():
    text = 'Authorization: Bearer abc.def-ghi_123 and {"refresh_token": "zzzz-yyyy-xxxx"}'
    out = redact(text)
    assert "abc.def-ghi_123" not in out
    assert "zzzz-yyyy-xxxx" not in out
    assert "refresh_token" in out  # the field name stays, so the reader knows what was there


def test_short_values_and_innocent_text_are_left_alone():
    Secret("true")
    assert redact("HTTP 404: true story, code 42") == "HTTP 404: true story, code 42"


def test_stored_text_is_capped():
    capped = redact_and_cap("x" * 10_000, limit=500)
    assert len(capped) <= 500
    assert capped.endswith("more)")
