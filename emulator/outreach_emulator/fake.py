"""Vocabulary and small builders for believable values: names, companies, emails, HTML bodies.

Everything takes a ``random.Random`` so the caller decides determinism.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar


def _listed(text: str, separator: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(separator))


T = TypeVar("T")


FIRST_NAMES = _listed(
    "Ada Alan Amara Ana Arjun Beatriz Ben Carla Chen Chloe Daniel Diego Elena Emeka Eva "
    "Farah Felix Grace Hana Hugo Ines Ivan Jamal Jana Jonas Julia Kai Kenji Laila Lars "
    "Lucia Maya Mateo Mei Nadia Noah Olga Omar Priya Rafael Rosa Sami Sara Sofia Tariq "
    "Tomas Uma Victor Wei Yara Zoe"
)
LAST_NAMES = _listed(
    "Adams Almeida Andersen Baker Bianchi Chen Costa Dubois Eze Fischer Garcia Gupta "
    "Hansen Hoffmann Ito Jensen Kim Kowalski Larsen Lopez Martin Meyer Moreau Nakamura "
    "Novak Okafor Olsen Patel Peters Rossi Santos Schmidt Silva Singh Smith Tanaka Nguyen "
    "Walker Wang Weber Yilmaz Zhang"
)
COMPANY_WORDS = _listed(
    "Acme Apex Beacon Blue Cedar Cobalt Delta Ember Falcon Granite Harbor Helix Indigo "
    "Juniper Keystone Lumen Maple Nimbus Orbit Pioneer Quartz Redwood Summit Tidal Vertex "
    "Willow Zenith"
)
COMPANY_SUFFIXES = _listed(
    "Labs Systems Analytics Logistics Health Robotics Foods Capital Software Energy "
    "Networks Media Works Group"
)
TITLES = _listed(
    "VP of Sales|Head of Marketing|Chief Technology Officer|Data Engineer|"
    "Procurement Manager|Director of Operations|Account Executive|CFO|Product Manager|"
    "IT Director|Sales Development Representative|Founder|Head of Revenue Operations|"
    "Customer Success Lead",
    "|",
)
INDUSTRIES = _listed(
    "Software|Manufacturing|Healthcare|Financial Services|Retail|Logistics|Education|"
    "Energy|Media|Telecommunications",
    "|",
)
CITIES = (
    ("Seattle", "WA", "US"),
    ("Austin", "TX", "US"),
    ("Boston", "MA", "US"),
    ("Chicago", "IL", "US"),
    ("Denver", "CO", "US"),
    ("Toronto", "ON", "CA"),
    ("London", None, "GB"),
    ("Berlin", None, "DE"),
    ("Lisbon", None, "PT"),
    ("Sydney", "NSW", "AU"),
    ("Bangalore", "KA", "IN"),
    ("Sao Paulo", "SP", "BR"),
)
TIME_ZONES = _listed(
    "America/Los_Angeles America/Chicago America/New_York America/Denver America/Toronto "
    "Europe/London Europe/Berlin Europe/Lisbon Australia/Sydney Asia/Kolkata "
    "America/Sao_Paulo"
)
WORDS = _listed(
    "pipeline quarter renewal demo integration forecast budget onboarding pricing security "
    "roadmap workflow dashboard migration contract pilot review timeline stakeholder "
    "proposal webinar analytics automation compliance expansion feedback launch "
    "partnership strategy team"
)
SENTENCES = _listed(
    ""
    "I noticed your team has been growing quickly and wanted to share how others handle it.|"
    "Teams like yours usually spend hours every week reconciling reports by hand.|"
    "We helped a company of similar size cut their onboarding time roughly in half.|"
    "Would it make sense to compare notes for fifteen minutes next week?|"
    "I have attached a short case study that walks through the rollout step by step.|"
    "Happy to tailor the demo to the workflows your team cares about most.|"
    "Our customers tell us the biggest win is fewer tools and clearer ownership.|"
    "If this is not a priority right now, just let me know and I will follow up next quarter.|"
    "The security review usually takes a week, and we provide every document up front.|"
    "Several teams in your industry moved over during their last renewal cycle.|"
    "I would love to hear how you are planning the roadmap for the second half of the year.|"
    "Pricing scales with usage, so a small pilot stays inexpensive.",
    "|",
)


def pick(rng: random.Random, options: Sequence[T]) -> T:
    """``rng.choice`` without its rejection sampling (a large share of generation time)."""
    return options[int(rng.random() * len(options))]


def number(rng: random.Random, low: int, high: int) -> int:
    """``number(rng, low, high)``, the fast way (see :func:`pick`)."""
    return low + int(rng.random() * (high - low + 1))


def domain_of(company_name: str) -> str:
    return company_name.lower().replace(" ", "") + ".example.com"


def email(first: str, last: str, domain: str) -> str:
    return f"{first.lower()}.{last.lower()}@{domain}"


def phone(rng: random.Random) -> str:
    return f"+1 {number(rng, 200, 989)}-{number(rng, 200, 999)}-{number(rng, 1000, 9999)}"


def words(rng: random.Random, low: int = 2, high: int = 5) -> str:
    return " ".join(pick(rng, WORDS) for _ in range(number(rng, low, high)))


def paragraph(rng: random.Random, low: int = 2, high: int = 4) -> str:
    return " ".join(pick(rng, SENTENCES) for _ in range(number(rng, low, high)))


def email_html(rng: random.Random, first_name: str, sender: str, paragraphs: int) -> str:
    """An HTML email body as Outreach stores it: styled paragraphs, links, signature, pixel."""
    token = f"{rng.getrandbits(64):016x}"
    body = "".join(
        '<p style="margin:0 0 12px 0;font-family:Arial,Helvetica,sans-serif;font-size:14px;'
        f'line-height:20px;color:#222222">{paragraph(rng)}</p>'
        for _ in range(paragraphs)
    )
    return (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; '
        'charset=utf-8"><style type="text/css">body{margin:0;padding:0}a{color:#1a73e8}'
        '</style></head><body><div class="outreach-email" style="max-width:640px">'
        f'<p style="margin:0 0 12px 0;font-family:Arial,Helvetica,sans-serif;font-size:14px">'
        f"Hi {first_name},</p>{body}"
        '<p style="margin:0 0 12px 0;font-family:Arial,Helvetica,sans-serif;font-size:14px">'
        f'<a href="https://click.example.com/t/{token}/case-study" target="_blank">'
        "Read the case study</a> or "
        f'<a href="https://click.example.com/t/{token}/meeting" target="_blank">'
        "pick a time that works</a>.</p>"
        '<table cellpadding="0" cellspacing="0" border="0" style="margin-top:24px">'
        f'<tr><td style="font-family:Arial,Helvetica,sans-serif;font-size:13px;color:#555555">'
        f"Best regards,<br><strong>{sender}</strong><br>Account Executive<br>"
        '<a href="https://www.example.com">www.example.com</a></td></tr></table>'
        '<p style="font-size:11px;color:#999999;margin-top:24px">If you would rather not hear '
        f'from me, <a href="https://click.example.com/u/{token}">unsubscribe here</a>.</p>'
        f'<img src="https://open.example.com/o/{token}.gif" width="1" height="1" alt="" '
        'style="display:block;border:0"></div></body></html>'
    )
