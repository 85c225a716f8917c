"""The grant alert sensor: tells people when an Outreach grant needs them.

Every few minutes it reads each grant's health from the token store (no token is spent) and
finds its open incidents: no grant, a grant needing reauthorization, a development-credential
grant within a day of its weekly expiry, a refresh token within a day of expiring unused. Each
incident is alerted once, again after 24 hours while it lasts, and a "resolved" notice follows
when it ends; the sensor cursor remembers what was alerted when, per grant. Grants are watched
one by one (the stored ones, or ``default`` when none is: see ``grants.py``): each has its own
incidents, alerts, resolutions and health page, and one needing a person never holds back the
alerts of another. A grant logged out is no longer watched: its open incidents are dropped.

An alert says what happened, since when, which streams it blocks, the command to run and the
authorize URL it opens. It goes to the configured channels (see ``alerts.py``) and shows in the
UI three ways: the sensor tick's log, an ``AssetObservation`` on ``outreach/grant_health`` (its
event history lists every incident opened and resolved), and one run of the
``outreach_grant_alert`` job per notice (keyed by ``run_key``, so never launched twice), which
puts the alert in the runs list.

The asset page of ``outreach/grant_health`` leads with its latest materialization and check, so
whenever the grant's state differs from the one that materialization recorded (its data
version, see grant_health.py), the sensor also launches ``outreach_grant_health``: that run
materializes the asset from the token store as it is then, and its check fails or passes with
it. Comparing with the page itself, not with what the sensor last asked for, also corrects a
page left stale by anything else (a failed run, an older run finishing late, a reset cursor).
"""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
from pydantic import Field

from outreach_pipeline.auth import (
    GrantHealth,
    duration,
    grant_named,
    login_hint,
    new_state,
    oauth_client,
)
from outreach_pipeline.catalog import catalog, default_streams, scopes_for
from outreach_pipeline.defs.alerts import AlertsResource
from outreach_pipeline.defs.grant_health import (
    GRANT_HEALTH_JOB,
    GRANT_HEALTH_KEY,
    grant_health_job,
    shown_state,
    state_version,
)
from outreach_pipeline.defs.grants import add_missing, grant_partition_keys
from outreach_pipeline.defs.resources import OutreachResource
from outreach_pipeline.settings import DEFAULT_GRANT, SettingsError

HOUR = 3600
WARN_WITHIN = 24 * HOUR
# Seconds between evaluations of the alert sensor.
TICK_SECONDS = 300
REALERT_AFTER = 24 * HOUR
ALERT_JOB = "outreach_grant_alert"


@dataclass(frozen=True)
class Incident:
    key: str
    text: str
    since: float | None = None
    """When it started (or the expiry it warns of), when known: keys its alert runs."""


@dataclass(frozen=True)
class Notice:
    """One message to send: an incident alerted (again) or resolved, with its run key."""

    key: str
    resolved: bool
    text: str
    run_key: str


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def authorize_url(outreach: OutreachResource, health: GrantHealth) -> str | None:
    """The URL ``auth login`` opens, for the grant's credential pair and every stream's scopes.

    It carries the client id, redirect URI, scopes and a fresh state, never a secret; the
    command makes its own (with the state it checks), so open it through the command. None
    when no OAuth credentials are configured."""
    try:
        settings = outreach.settings()
        client = oauth_client(settings, health.credential_kind)
    except SettingsError:
        return None
    kind = client.credentials.kind
    return client.authorize_url(scopes_for(default_streams()), new_state(kind))


def _action(url: str | None, grant: str) -> str:
    opens = f"; it opens {url}" if url else ""
    return f"{login_hint(grant)}{opens}"


def _blocked() -> str:
    streams = sorted(catalog())
    return f"All {len(streams)} streams are blocked until then: {', '.join(streams)}."


def incidents(
    health: GrantHealth, now: float, url: str | None = None, grant: str = DEFAULT_GRANT
) -> list[Incident]:
    """What about ``grant`` needs a person at ``now``; ``url`` is the authorize URL to show."""
    name = grant_named(grant)
    if health.needs_reauthorization and not health.stored:
        text = f"No Outreach grant{name} is stored: {_action(url, grant)}. {_blocked()}"
        return [Incident("no_grant", text)]
    if health.needs_reauthorization:
        since = f" since {_utc(health.since)}" if health.since is not None else ""
        return [
            Incident(
                "needs_reauthorization",
                f"The Outreach grant{name} needs reauthorization{since} ({health.reason}): "
                f"{_action(url, grant)}. {_blocked()}",
                health.since,
            )
        ]
    found = []
    dev_expiry = health.development_expires_at
    if dev_expiry is not None and dev_expiry - now < WARN_WITHIN:
        when = f"in {duration(dev_expiry - now)}" if dev_expiry > now else "now"
        found.append(
            Incident(
                "development_expiry",
                f"The development-credential Outreach grant{name} reaches its weekly expiry "
                f"{when}; if syncs start failing, {_action(url, grant)}.",
                dev_expiry,
            )
        )
    refresh_expiry = health.refresh_token_expires_at
    if refresh_expiry is not None and refresh_expiry - now < WARN_WITHIN:
        found.append(
            Incident(
                "refresh_token_idle",
                f"The Outreach refresh token{name and f' of grant{name}'} expires unused in "
                f"{duration(refresh_expiry - now)}: run a sync (any stream) to renew it.",
                refresh_expiry,
            )
        )
    return found


def notices(
    open_incidents: dict[str, dict], current: list[Incident], now: float, grant: str = DEFAULT_GRANT
) -> tuple[list[Notice], dict[str, dict]]:
    """Notices to send now about ``grant`` and its open incidents afterwards (its part of the
    next cursor).

    Run keys name the incident's start and how many times it was alerted, so a tick evaluated
    again from the same cursor asks for the same runs, which Dagster then launches only once.
    An incident with no known start (no grant stored) is named by the start of the sensor
    interval it was found in: the alert time itself moved with every second between a tick
    and its replay, which then launched a second run. Run keys of a grant other than the
    default start with ``NAME/``."""
    prefix = "" if grant == DEFAULT_GRANT else f"{grant}/"
    sent = []
    after = {}
    for incident in current:
        alerted = open_incidents.get(incident.key)
        if alerted is None or now - alerted["at"] >= REALERT_AFTER:
            count = 1 if alerted is None else alerted.get("count", 1) + 1
            start = incident.since if incident.since is not None else now - now % TICK_SECONDS
            if alerted is not None and "run_key" in alerted:
                run_key = f"{alerted['run_key'].rsplit('#', 1)[0]}#{count}"
            else:
                run_key = f"{prefix}{incident.key}@{start:.0f}#{count}"
            alerted = {"at": now, "text": incident.text, "count": count, "run_key": run_key}
            sent.append(Notice(incident.key, False, incident.text, run_key))
        after[incident.key] = alerted
    for key, alerted in open_incidents.items():
        if key not in after:
            opened = alerted.get("run_key") or f"{prefix}{key}@{alerted['at']:.0f}"
            run_key = f"{opened}:resolved"
            sent.append(Notice(key, True, f"Resolved: {alerted['text']}", run_key))
    return sent, after


class GrantAlertConfig(dg.Config):
    incident: str
    resolved: bool = False
    text: str
    failed_channels: list[str] = Field(default_factory=list)


@dg.op
def log_grant_alert(context: dg.OpExecutionContext, config: GrantAlertConfig) -> None:
    """Logs the alert, so it shows in the runs list and the run's logs."""
    if config.resolved:
        context.log.info(config.text)
    else:
        context.log.warning(config.text)
    for problem in config.failed_channels:
        context.log.error(f"alert channel failed: {problem}")


@dg.job(
    name=ALERT_JOB,
    description="One run per grant alert or resolved notice, launched by outreach_grant_alerts.",
    tags={"outreach/kind": "grant_alert"},
)
def grant_alert_job() -> None:
    log_grant_alert()


def _observation(
    notice: Notice, health: GrantHealth, url: str | None, grant: str
) -> dg.AssetObservation:
    return dg.AssetObservation(
        asset_key=GRANT_HEALTH_KEY,
        partition=grant,
        description=notice.text,
        metadata={
            "grant": grant,
            "incident": notice.key,
            "state": "resolved" if notice.resolved else "open",
            "needs_reauthorization": health.needs_reauthorization,
            "reason": health.reason,
            "since": dg.MetadataValue.timestamp(health.since)
            if health.since is not None
            else dg.MetadataValue.null(),
            "blocked_streams": dg.MetadataValue.json(
                sorted(catalog()) if health.needs_reauthorization else []
            ),
            "action": login_hint(grant) if not notice.resolved else None,
            "authorize_url": dg.MetadataValue.url(url) if url and not notice.resolved else None,
        },
    )


def _run_request(notice: Notice, failures: list[str], grant: str) -> dg.RunRequest:
    config = GrantAlertConfig(
        incident=notice.key, resolved=notice.resolved, text=notice.text, failed_channels=failures
    )
    return dg.RunRequest(
        run_key=notice.run_key,
        job_name=ALERT_JOB,
        run_config=dg.RunConfig(ops={log_grant_alert.name: config}),
        tags={"outreach/incident": notice.key, "outreach/grant": grant},
    )


def _record_health(
    instance: dg.DagsterInstance, health: GrantHealth, grant: str
) -> dg.RunRequest | None:
    """A run materializing ``grant``'s partition of ``outreach/grant_health`` when its page
    shows another state than ``health``. Keyed by the grant, the state, the materialization
    shown and the hour: launched once while queued, retried hourly should it fail."""
    version = state_version(health)
    shown_version, shown_id = shown_state(instance, grant)
    if shown_version == version:
        return None
    hour = int(time.time() // HOUR)
    prefix = "" if grant == DEFAULT_GRANT else f"{grant}/"
    return dg.RunRequest(
        run_key=f"{prefix}grant_health:{version}@{shown_id or 0}:{hour}",
        job_name=GRANT_HEALTH_JOB,
        partition_key=grant,
        tags={"outreach/kind": "grant_health", "outreach/grant": grant},
    )


@dataclass
class _Tick:
    """What one evaluation of the sensor asks for, grant after grant."""

    run_requests: list[dg.RunRequest]
    observations: list[dg.AssetObservation]
    cursor: dict[str, dict]
    open_keys: list[str]


def _watch(
    context: dg.SensorEvaluationContext,
    outreach: OutreachResource,
    alerts: AlertsResource,
    grant: str,
    open_incidents: dict[str, dict],
    tick: _Tick,
) -> None:
    """Alerts and resolves ``grant``'s incidents and refreshes its health page, into ``tick``."""
    now = time.time()
    health = outreach.assess_stored_grant(grant)
    url = authorize_url(outreach, health) if health.stored or health.needs_reauthorization else None
    current = incidents(health, now, url, grant)
    sent, after = notices(open_incidents, current, now, grant)
    for notice in sent:
        failures = alerts.send(notice.text)
        (context.log.info if notice.resolved else context.log.warning)(notice.text)
        for problem in failures:
            context.log.error(f"alert channel failed: {problem}")
        tick.run_requests.append(_run_request(notice, failures, grant))
        tick.observations.append(_observation(notice, health, url, grant))
    record = _record_health(context.instance, health, grant)
    if record is not None:
        tick.run_requests.append(record)
    if after:
        tick.cursor[grant] = after
    tick.open_keys += [f"{i.key}{grant_named(grant) and f' ({grant})'}" for i in current]


def _by_grant(cursor: str | None) -> dict[str, dict[str, dict]]:
    """The open incidents per grant the cursor holds. A cursor written before grants had names
    held the default grant's incidents alone: read as such, so an upgrade alerts nothing twice."""
    state = json.loads(cursor) if cursor else {}
    if any("at" in value for value in state.values()):
        return {DEFAULT_GRANT: state}
    return state


@dg.sensor(
    name="outreach_grant_alerts",
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[grant_alert_job, grant_health_job],
)
def grant_alerts(
    context: dg.SensorEvaluationContext, outreach: OutreachResource, alerts: AlertsResource
) -> dg.SensorResult:
    """Alerts once per incident when an Outreach grant needs a person (re-alerts daily)."""
    state = _by_grant(context.cursor)
    grants = grant_partition_keys(outreach.settings())
    tick = _Tick(run_requests=[], observations=[], cursor={}, open_keys=[])
    for grant in grants:
        _watch(context, outreach, alerts, grant, state.get(grant, {}), tick)
    for gone in sorted(state.keys() - set(grants)):
        context.log.info(f"grant {gone} is no longer stored: its open incidents are dropped")
    cursor = json.dumps(tick.cursor)
    if tick.run_requests:
        return dg.SensorResult(
            run_requests=tick.run_requests,
            asset_events=tick.observations,
            cursor=cursor,
            # A grant's health run needs its partition, which may be minutes old.
            dynamic_partitions_requests=add_missing(context.instance, grants),
        )
    if tick.open_keys:
        summary = f"already alerted: {', '.join(tick.open_keys)}"
    elif len(grants) > 1:
        summary = "the Outreach grants are healthy"
    else:
        summary = "the Outreach grant is healthy"
    return dg.SensorResult(skip_reason=summary, cursor=cursor)
