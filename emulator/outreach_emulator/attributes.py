"""Which value each attribute of each stream gets: a plan of builders, made once per stream.

Attributes without a builder stay null (most of the 150+ custom fields, as in real
workspaces). The rules of ``generation.json`` come first (per stream, then shared by name),
naming builders defined here; every other attribute gets a builder by its catalog type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from outreach_emulator import fake
from outreach_emulator.api_facts import AttributeFacts, facts_of
from outreach_emulator.clock import iso_ms
from outreach_emulator.generation import AttributeRule, generation_rules
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


def _amount(d: Draft) -> int:
    return fake.number(d.rng, 5, 500) * 1000


def _counter(high: int) -> Builder:
    return lambda d: fake.number(d.rng, 0, high)


MAILING_STATES = ("delivered", "delivered", "opened", "opened", "replied", "bounced", "scheduled")
_ORG_DOMAIN = "emulated-org.example.com"

# Builders named by the rules in generation.json.
NAMED: dict[str, Builder] = {
    "id": lambda d: d.id,
    "between": lambda d: d.between(),
    "created_at": lambda d: iso_ms(d.created_ms),
    "title_words": lambda d: fake.words(d.rng, 2, 3).title(),
    "tags": lambda d: [fake.words(d.rng, 1, 1)] if d.rng.random() < 0.3 else [],
    "own_email": _own_email,
    "listed_email": _listed_email,
    "email_type": lambda d: "personal" if d.position_in_owner(d.path) else "work",
    "position_in_owner": lambda d: d.position_in_owner(d.path),
    "phone": lambda d: fake.phone(d.rng),
    "work_phones": lambda d: [fake.phone(d.rng)],
    "mobile_phones": lambda d: [fake.phone(d.rng)] if d.rng.random() < 0.4 else [],
    "prospect_first_name": _prospect_first,
    "prospect_last_name": _prospect_last,
    "prospect_name": lambda d: f"{_prospect_first(d)} {_prospect_last(d)}",
    "prospect_emails": lambda d: [_own_email(d)],
    "linkedin_url": lambda d: f"https://www.linkedin.com/in/prospect-{d.id}",
    "address_city": lambda d: d.once("city", _city)[0],
    "address_state": lambda d: d.once("city", _city)[1],
    "address_country": lambda d: d.once("city", _city)[2],
    "any_city": lambda d: fake.pick(d.rng, fake.CITIES)[0],
    "request_city": lambda d: fake.pick(d.rng, fake.CITIES)[0] if d.rng.random() < 0.3 else None,
    "account_company": lambda d: d.factory.company(d.rels.get("account")),
    "own_company": lambda d: d.factory.company(d.id),
    "own_domain": lambda d: fake.domain_of(d.factory.company(d.id)),
    "own_website": lambda d: "https://" + fake.domain_of(d.factory.company(d.id)),
    "own_first_name": lambda d: d.first_name("users", d.id),
    "own_last_name": lambda d: d.last_name("users", d.id),
    "own_full_name": lambda d: f"{d.first_name('users', d.id)} {d.last_name('users', d.id)}",
    "own_user_email": lambda d: f"user{d.id}@{_ORG_DOMAIN}",
    "own_username": lambda d: f"user{d.id}",
    "user_email": lambda d: f"user{d.rels.get('user')}@{_ORG_DOMAIN}",
    "user_username": lambda d: f"user{d.rels.get('user')}",
    "mailing_subject": lambda d: f"{fake.words(d.rng, 2, 4).capitalize()} for {_prospect_first(d)}",
    "mailing_html": _mailing_html,
    "mailing_text": lambda d: _html_to_text(_mailing_html(d)),
    "mailing_state": lambda d: d.once("state", _mailing_state),
    "delivered_at": _delivered,
    "message_id": lambda d: f"<{d.rng.getrandbits(96):024x}@{_ORG_DOMAIN}>",
    "task_state": lambda d: d.once("state", _task_state),
    "task_completed": lambda d: d.once("state", _task_state) == "complete",
    "event_payload": lambda d: {"source": "emulator", "weight": fake.number(d.rng, 1, 5)},
    "opportunity_name": lambda d: (
        f"{d.factory.company(d.rels.get('account'))} - {fake.words(d.rng, 1, 2)}"
    ),
    "amount": lambda d: d.once("amount", _amount),
    "amount_precise": lambda d: f"{d.once('amount', _amount)}.00",
    # The definition: an integer, "specified as a hexadecimal value (e.g. 0xFF5951FF)".
    "argb_color": lambda d: 0xFF000000 | d.rng.getrandbits(24),
    "sequence_name": lambda d: f"{fake.words(d.rng, 2, 3).title()} sequence {d.id}",
    "step_order": lambda d: (d.id - 1) % 5 + 1,
    "priority_weight": lambda d: 100 * (4 - d.id),
    "closed_stage": lambda d: d.id >= 6,
    "team_name": lambda d: f"{fake.words(d.rng, 1, 1).title()} team {d.id}",
}


def _choice(options: list[Any]) -> Builder:
    chosen = tuple(options)
    return lambda d: fake.pick(d.rng, chosen)


def _pool(name: str) -> Builder:
    options = getattr(fake, name)
    return lambda d: fake.pick(d.rng, options)


def _names(names: list[str]) -> Builder:
    """The n-th record gets the n-th name (records of small reference streams)."""
    options = tuple(names)
    return lambda d: options[(d.id - 1) % len(options)]


def _const(value: Any) -> Builder:
    return lambda d: value


def _paragraph(sentences: list[int], share: float | None = None) -> Builder:
    low, high = sentences
    if share is None:
        return lambda d: fake.paragraph(d.rng, low, high)
    return lambda d: fake.paragraph(d.rng, low, high) if d.rng.random() < share else None


def _hex_bits(bits: int) -> Builder:
    return lambda d: f"{d.rng.getrandbits(bits):0{bits // 4}x}"


def _chance(share: float) -> Builder:
    return lambda d: d.rng.random() < share


def _every(n: int) -> Builder:
    return lambda d: d.id % n == 0


def _relationship_id(name: str) -> Builder:
    """The id of the record's to-one relationship ``name`` (``batchItem.batchId``)."""
    return lambda d: d.rels.get(name)


def _trashed_every(n: int) -> Builder:
    return lambda d: iso_ms(d.updated_ms) if d.id % n == 0 else None


# Builders made from a rule's parameters: {"choice": [...]}, {"paragraph": [1, 2], "share": 0.5}.
PARAMETRIZED: dict[str, Callable[..., Builder]] = {
    "choice": _choice,
    "pool": _pool,
    "names": _names,
    "const": _const,
    "paragraph": _paragraph,
    "hex_bits": _hex_bits,
    "chance": _chance,
    "every": _every,
    "trashed_every": _trashed_every,
    "relationship_id": _relationship_id,
}


def builder(rule: AttributeRule) -> Builder:
    """The builder a rule of generation.json names."""
    if isinstance(rule, str):
        return NAMED[rule]
    kind, value = next(iter(rule.items()))
    options = {key: option for key, option in rule.items() if key != kind}
    return PARAMETRIZED[kind](value, **options)


def _by_type(name: str, kind: AttributeType, facts: AttributeFacts | None) -> Builder | None:
    """A builder by the catalog type, narrowed by what the OpenAPI says of the attribute."""
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
        return _string(name, facts)
    if kind == "string_list":
        if facts is not None and facts.items == "email":
            return lambda d: [f"contact{d.id}@{_ORG_DOMAIN}"] if d.rng.random() < 0.2 else []
        return lambda d: [fake.words(d.rng, 1, 2)] if d.rng.random() < 0.2 else []
    return None


def _string(name: str, facts: AttributeFacts | None) -> Builder:
    """Strings of the documented shape: one of the enumerated values, an address, a URL, a
    country code, or words cut to the maximum length."""
    if facts is not None and facts.enum:
        return _choice(list(facts.enum))
    if facts is not None and facts.format == "email":
        return lambda d: f"{name.lower()}{d.id}@{_ORG_DOMAIN}" if d.rng.random() < 0.5 else None
    if "Url" in name:
        return lambda d: f"https://www.example.com/{name.lower()}/{d.id}" if d.id % 3 else None
    limit = facts.max_length if facts is not None else None
    if name.endswith("CountryCode"):
        return lambda d: fake.pick(d.rng, fake.CITIES)[2][:limit] if d.rng.random() < 0.5 else None
    if limit is not None and limit < 12:
        return lambda d: f"{d.rng.getrandbits(4 * limit):0{limit}x}"[:limit] if d.id % 2 else None
    return lambda d: fake.words(d.rng, 1, 3)[:limit] if d.rng.random() < 0.3 else None


def attribute_plan(stream: Stream) -> tuple[dict[str, Any], list[tuple[str, Builder]]]:
    """(all attributes set to null, builders for the attributes that get a value). Withheld
    attributes are served too, as the API serves them: the pipeline must not land them."""
    served = {**stream.attributes, **stream.withheld}
    template: dict[str, Any] = dict.fromkeys(served)
    builders: list[tuple[str, Builder]] = []
    rules = generation_rules()
    specific = rules.attributes.get(stream.path, {})
    facts = facts_of(stream.path).attributes
    for name, kind in served.items():
        build: Builder | None
        if name == "createdAt":
            build = _created
        elif name == "updatedAt":
            build = _updated
        elif name in specific:
            build = builder(specific[name])
        elif (documented := facts.get(name)) is not None and documented.enum:
            # The definition's values beat a rule shared by name across streams.
            build = _choice(list(documented.enum))
        elif name in rules.shared_attributes:
            build = builder(rules.shared_attributes[name])
        elif custom := _CUSTOM.match(name):
            build = _custom_value if int(custom.group(1)) <= FILLED_CUSTOM_FIELDS else None
        else:
            build = _by_type(name, kind, facts.get(name))
        if build is not None:
            builders.append((name, build))
    return template, builders


def _created(d: Draft) -> str:
    return iso_ms(d.created_ms)


def _updated(d: Draft) -> str:
    return iso_ms(d.updated_ms)


def _custom_value(d: Draft) -> str | None:
    return fake.words(d.rng, 1, 2) if d.rng.random() < 0.4 else None
