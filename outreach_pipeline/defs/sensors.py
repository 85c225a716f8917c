"""The grant alert sensor: tells people when the Outreach grant needs them.

Every few minutes it reads the grant's health from the token store (no token is spent) and
finds the open incidents: no grant, a grant needing reauthorization, a development-credential
grant within a day of its weekly expiry, a refresh token within a day of expiring unused. Each
incident is alerted once, again after 24 hours while it lasts, and a "resolved" notice follows
when it ends; the sensor cursor remembers what was alerted when. Alerts appear in the sensor's
ticks and logs in the UI and go to the configured channels (see ``alerts.py``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import dagster as dg

from outreach_pipeline.auth import GrantHealth
from outreach_pipeline.auth.errors import LOGIN_HINT
from outreach_pipeline.auth.health import duration
from outreach_pipeline.defs.alerts import AlertsResource
from outreach_pipeline.defs.resources import OutreachResource

HOUR = 3600
WARN_WITHIN = 24 * HOUR
REALERT_AFTER = 24 * HOUR


@dataclass(frozen=True)
class Incident:
    key: str
    text: str


def incidents(health: GrantHealth, now: float) -> list[Incident]:
    """What about the grant needs a person at ``now``."""
    if not health.stored:
        return [Incident("no_grant", f"No Outreach grant is stored: {LOGIN_HINT}.")]
    if health.needs_reauthorization:
        return [
            Incident(
                "needs_reauthorization",
                f"The Outreach grant needs reauthorization ({health.reason}): {LOGIN_HINT}.",
            )
        ]
    found = []
    dev_expiry = health.development_expires_at
    if dev_expiry is not None and dev_expiry - now < WARN_WITHIN:
        when = f"in {duration(dev_expiry - now)}" if dev_expiry > now else "now"
        found.append(
            Incident(
                "development_expiry",
                f"The development-credential Outreach grant reaches its weekly expiry {when}; "
                f"if syncs start failing, {LOGIN_HINT}.",
            )
        )
    refresh_expiry = health.refresh_token_expires_at
    if refresh_expiry is not None and refresh_expiry - now < WARN_WITHIN:
        found.append(
            Incident(
                "refresh_token_idle",
                f"The Outreach refresh token expires unused in {duration(refresh_expiry - now)}: "
                "run a sync (any stream) to renew it.",
            )
        )
    return found


def notices(
    open_incidents: dict[str, dict], current: list[Incident], now: float
) -> tuple[list[str], dict[str, dict]]:
    """Messages to send now and the open incidents afterwards (the next cursor)."""
    messages = []
    after = {}
    for incident in current:
        alerted = open_incidents.get(incident.key)
        if alerted is None or now - alerted["at"] >= REALERT_AFTER:
            messages.append(incident.text)
            alerted = {"at": now, "text": incident.text}
        after[incident.key] = alerted
    for key, alerted in open_incidents.items():
        if key not in after:
            messages.append(f"Resolved: {alerted['text']}")
    return messages, after


@dg.sensor(
    name="outreach_grant_alerts",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def grant_alerts(
    context: dg.SensorEvaluationContext, outreach: OutreachResource, alerts: AlertsResource
) -> dg.SensorResult:
    """Alerts once per incident when the Outreach grant needs a person (re-alerts daily)."""
    now = time.time()
    open_incidents = json.loads(context.cursor) if context.cursor else {}
    current = incidents(outreach.grant_health(), now)
    messages, after = notices(open_incidents, current, now)
    failures = [problem for text in messages for problem in alerts.send(text)]
    for text in messages:
        context.log.warning(text)
    for problem in failures:
        context.log.error(f"alert channel failed: {problem}")
    if messages:
        summary = " | ".join(messages)
    elif current:
        summary = f"already alerted: {', '.join(i.key for i in current)}"
    else:
        summary = "the Outreach grant is healthy"
    if failures:
        summary += f" (failed channels: {'; '.join(failures)})"
    return dg.SensorResult(skip_reason=summary, cursor=json.dumps(after))
