"""Which value each attribute of each stream gets: a plan of builders, made once per stream.

Attributes without a builder stay null (most of the 150+ custom fields, as in real
workspaces). Named builders come first (per stream, then shared by name); every other attribute
gets a builder by its catalog type.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from outreach_emulator import fake
from outreach_emulator.clock import iso_ms
from outreach_pipeline.catalog import AttributeType, Stream

if TYPE_CHECKING:
    from outreach_emulator.records import Builder, Draft

FILLED_CUSTOM_FIELDS = 5
_CUSTOM = re.compile(r"custom(\d+)$")


def _prospect_first(d: Draft) -> str:
    return d.first_name("prospects", d.prospect_id())


def _prospect_last(d: Draft) -> str:
    return d.last_name("prospects", d.prospect_id())


def _own_email(d: Draft) -> str:
    company = d.factory.company(d.account_id())
    return fake.email(_prospect_first(d), _prospect_last(d), fake.domain_of(company))


def _listed_email(d: Draft) -> str:
    """A prospect's first email address is its work address, later ones personal."""
    if d.position_in_owner("emailAddresses") == 0:
        return _own_email(d)
    return fake.email(_prospect_first(d), _prospect_last(d), "personal-mail.example.com")


def _user_name(d: Draft) -> str:
    return f"{d.first_name('users', d.rels.get('user'))} {d.last_name('users', d.rels.get('user'))}"


def _mailing_html(d: Draft) -> str:
    return d.once(
        "html",
        lambda d: fake.email_html(
            d.rng, _prospect_first(d), _user_name(d), fake.number(d.rng, 3, 8)
        ),
    )


def _html_to_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html.split("<body>", 1)[-1])


def _delivered(d: Draft) -> str | None:
    state = d.once("state", _mailing_state)
    return d.between() if state in ("delivered", "opened", "replied") else None


def _mailing_state(d: Draft) -> str:
    return fake.pick(d.rng, MAILING_STATES)


def _task_state(d: Draft) -> str:
    return fake.pick(d.rng, ("complete", "incomplete"))


def _city(d: Draft) -> tuple[str, str | None, str]:
    return fake.pick(d.rng, fake.CITIES)


def _choice(options: tuple[Any, ...]) -> Builder:
    return lambda d: fake.pick(d.rng, options)


def _counter(high: int) -> Builder:
    return lambda d: fake.number(d.rng, 0, high)


def _name_list(names: str) -> Builder:
    options = tuple(names.split(","))
    return lambda d: options[(d.id - 1) % len(options)]


MAILING_STATES = ("delivered", "delivered", "opened", "opened", "replied", "bounced", "scheduled")
SEQUENCE_STATE_STATES = (
    "active",
    "active",
    "finished",
    "paused",
    "pending",
    "bounced",
    "opted_out",
)
_COLORS = ("#1a73e8", "#34a853", "#fbbc05", "#ea4335", "#9334e6", "#00acc1")

SHARED: dict[str, Builder] = {
    "name": lambda d: fake.words(d.rng, 2, 3).title(),
    "email": _own_email,
    "title": _choice(fake.TITLES),
    "tags": lambda d: [fake.words(d.rng, 1, 1)] if d.rng.random() < 0.3 else [],
    "color": _choice(_COLORS),
    "order": lambda d: d.id,
    "description": lambda d: fake.paragraph(d.rng, 1, 2) if d.rng.random() < 0.5 else None,
    "shareType": _choice(("private", "read_only", "shared")),
    "subject": lambda d: f"{fake.words(d.rng, 2, 4).capitalize()} for {_prospect_first(d)}",
    "bodyHtml": _mailing_html,
    "bodyText": lambda d: fake.paragraph(d.rng, 3, 6),
    "trackLinks": lambda d: True,
    "trackOpens": lambda d: True,
}

PER_STREAM: dict[str, dict[str, Builder]] = {
    "prospects": {
        "firstName": _prospect_first,
        "lastName": _prospect_last,
        "name": lambda d: f"{_prospect_first(d)} {_prospect_last(d)}",
        "emails": lambda d: [_own_email(d)],
        "company": lambda d: d.factory.company(d.rels.get("account")),
        "occupation": _choice(fake.TITLES),
        "addressCity": lambda d: d.once("city", _city)[0],
        "addressState": lambda d: d.once("city", _city)[1],
        "addressCountry": lambda d: d.once("city", _city)[2],
        "timeZone": _choice(fake.TIME_ZONES),
        "workPhones": lambda d: [fake.phone(d.rng)],
        "mobilePhones": lambda d: [fake.phone(d.rng)] if d.rng.random() < 0.4 else [],
        "linkedInUrl": lambda d: f"https://www.linkedin.com/in/prospect-{d.id}",
        "source": _choice(("Salesforce", "CSV import", "Chrome extension", "API")),
        "trashedAt": lambda d: iso_ms(d.updated_ms) if d.id % 37 == 0 else None,
        "optedOut": lambda d: d.id % 53 == 0,
    },
    "accounts": {
        "name": lambda d: d.factory.company(d.id),
        "naturalName": lambda d: d.factory.company(d.id),
        "domain": lambda d: fake.domain_of(d.factory.company(d.id)),
        "websiteUrl": lambda d: "https://" + fake.domain_of(d.factory.company(d.id)),
        "industry": _choice(fake.INDUSTRIES),
        "numberOfEmployees": lambda d: fake.pick(d.rng, (12, 45, 180, 650, 2400, 12000)),
        "locality": lambda d: fake.pick(d.rng, fake.CITIES)[0],
    },
    "users": {
        "firstName": lambda d: d.first_name("users", d.id),
        "lastName": lambda d: d.last_name("users", d.id),
        "name": lambda d: f"{d.first_name('users', d.id)} {d.last_name('users', d.id)}",
        "email": lambda d: f"user{d.id}@emulated-org.example.com",
        "username": lambda d: f"user{d.id}",
        "userGuid": lambda d: f"{d.rng.getrandbits(128):032x}",
        "locked": lambda d: False,
    },
    "mailboxes": {
        "email": lambda d: f"user{d.rels.get('user')}@emulated-org.example.com",
        "userId": lambda d: d.rels.get("user"),
        "username": lambda d: f"user{d.rels.get('user')}",
        "emailProvider": lambda d: "gmail",
        "providerType": lambda d: "google_oauth2",
        "password": lambda d: None,
        "smtpPassword": lambda d: None,
        "sendgridApiKey": lambda d: None,
    },
    "mailings": {
        "state": lambda d: d.once("state", _mailing_state),
        "mailingType": _choice(("sequence", "sequence", "single")),
        "mailboxAddress": lambda d: f"user{d.rels.get('user')}@emulated-org.example.com",
        "messageId": lambda d: f"<{d.rng.getrandbits(96):024x}@emulated-org.example.com>",
        "deliveredAt": _delivered,
        "bodyText": lambda d: _html_to_text(_mailing_html(d)),
        "errorBacktrace": lambda d: None,
    },
    "templates": {"bodyText": lambda d: fake.paragraph(d.rng, 3, 6)},
    "tasks": {
        "action": _choice(("call", "email", "in_person", "other")),
        "state": lambda d: d.once("state", _task_state),
        "completed": lambda d: d.once("state", _task_state) == "complete",
        "taskType": _choice(("follow_up", "manual", "sequence_step_call", "sequence_step_email")),
        "note": lambda d: fake.paragraph(d.rng, 1, 2) if d.rng.random() < 0.4 else None,
    },
    "calls": {
        "direction": _choice(("outbound", "outbound", "inbound")),
        "outcome": _choice(("Answered", "Not Answered", "Voicemail")),
        "from": lambda d: fake.phone(d.rng),
        "to": lambda d: fake.phone(d.rng),
        "uid": lambda d: f"{d.rng.getrandbits(64):016x}",
        "note": lambda d: fake.paragraph(d.rng, 1, 2) if d.rng.random() < 0.5 else None,
    },
    "sequenceStates": {"state": _choice(SEQUENCE_STATE_STATES)},
    "emailAddresses": {
        "email": _listed_email,
        "emailType": lambda d: "personal" if d.position_in_owner("emailAddresses") else "work",
        "status": _choice(("Verified", "Unverified", "Bounced")),
        "order": lambda d: d.position_in_owner("emailAddresses"),
    },
    "phoneNumbers": {
        "number": lambda d: fake.phone(d.rng),
        "rawNumber": lambda d: fake.phone(d.rng),
        "phoneType": _choice(("work", "mobile", "home")),
        "countryCode": lambda d: "US",
        "order": lambda d: d.position_in_owner("phoneNumbers"),
    },
    "events": {
        "name": _choice(
            ("mailing_opened", "mailing_delivered", "prospect_updated", "call_completed")
        ),
        "eventAt": lambda d: iso_ms(d.created_ms),
        "payload": lambda d: {"source": "emulator", "weight": fake.number(d.rng, 1, 5)},
        "requestCity": lambda d: fake.pick(d.rng, fake.CITIES)[0] if d.rng.random() < 0.3 else None,
    },
    "opportunities": {
        "name": lambda d: f"{d.factory.company(d.rels.get('account'))} - {fake.words(d.rng, 1, 2)}",
        "amount": lambda d: fake.number(d.rng, 5, 500) * 1000,
        "probability": lambda d: fake.pick(d.rng, (10, 25, 50, 75, 90)),
        "currencyType": lambda d: "USD",
        "closeDate": lambda d: d.between(),
        "trashedAt": lambda d: iso_ms(d.updated_ms) if d.id % 41 == 0 else None,
    },
    "sequences": {
        "name": lambda d: f"{fake.words(d.rng, 2, 3).title()} sequence {d.id}",
        "enabled": lambda d: d.rng.random() < 0.8,
        "sequenceType": _choice(("interval", "date")),
        "sequenceStepCount": lambda d: 5,
    },
    "sequenceSteps": {
        "stepType": _choice(("auto_email", "manual_email", "call", "task")),
        "order": lambda d: (d.id - 1) % 5 + 1,
        "interval": lambda d: fake.pick(d.rng, (0, 86400, 172800, 259200)),
    },
    "stages": {
        "name": _name_list("Cold,Approaching,Replied,Interested,Meeting,Qualified,Won,Lost")
    },
    "personas": {"name": _name_list("Champion,Economic buyer,End user,Executive,Technical,Legal")},
    "callDispositions": {
        "name": _name_list(
            "Connected,Left voicemail,No answer,Busy,Wrong number,Meeting,Gatekeeper"
        ),
        "outcome": _choice(("Answered", "Not Answered")),
    },
    "callPurposes": {"name": _name_list("Prospecting,Follow up,Discovery,Demo,Negotiation")},
    "taskPriorities": {
        "name": _name_list("High,Normal,Low"),
        "weight": lambda d: 100 * (4 - d.id),
    },
    "opportunityStages": {
        "name": _name_list("Prospecting,Qualification,Discovery,Proposal,Negotiation,Won,Lost"),
        "isClosed": lambda d: d.id >= 6,
    },
    "duties": {
        "symbolicName": _name_list(
            "sdr,bdr,ae,am,csm,sales_ops,marketing,recruiter,manager,executive"
        ),
        "dutyType": lambda d: "Duty",
    },
    "teams": {"name": lambda d: f"{fake.words(d.rng, 1, 1).title()} team {d.id}"},
}


def _by_type(name: str, kind: AttributeType) -> Builder | None:
    if kind == "timestamp":
        return lambda d: d.maybe_between()
    if kind == "date":
        return lambda d: d.between()[:10] if d.rng.random() < 0.3 else None
    if kind == "boolean":
        return lambda d: d.rng.random() < 0.15
    if kind == "integer":
        if name.endswith("Count"):
            return _counter(12)
        return lambda d: fake.number(d.rng, 0, 1000) if d.rng.random() < 0.4 else None
    if kind == "number":
        return lambda d: round(d.rng.random() * 100, 2) if d.rng.random() < 0.5 else None
    if kind == "string":
        if "Url" in name:
            return lambda d: f"https://www.example.com/{name.lower()}/{d.id}" if d.id % 3 else None
        return lambda d: fake.words(d.rng, 1, 3) if d.rng.random() < 0.3 else None
    if kind == "string_list":
        return lambda d: [fake.words(d.rng, 1, 2)] if d.rng.random() < 0.2 else []
    return None


def attribute_plan(stream: Stream) -> tuple[dict[str, Any], list[tuple[str, Builder]]]:
    """(all attributes set to null, builders for the attributes that get a value)."""
    template: dict[str, Any] = dict.fromkeys(stream.attributes)
    builders: list[tuple[str, Builder]] = []
    specific = PER_STREAM.get(stream.path, {})
    for name, kind in stream.attributes.items():
        build: Builder | None
        if name == "createdAt":
            build = _created
        elif name == "updatedAt":
            build = _updated
        elif name in specific:
            build = specific[name]
        elif name in SHARED:
            build = SHARED[name]
        elif custom := _CUSTOM.match(name):
            build = _custom_value if int(custom.group(1)) <= FILLED_CUSTOM_FIELDS else None
        else:
            build = _by_type(name, kind)
        if build is not None:
            builders.append((name, build))
    return template, builders


def _created(d: Draft) -> str:
    return iso_ms(d.created_ms)


def _updated(d: Draft) -> str:
    return iso_ms(d.updated_ms)


def _custom_value(d: Draft) -> str | None:
    return fake.words(d.rng, 1, 2) if d.rng.random() < 0.4 else None
