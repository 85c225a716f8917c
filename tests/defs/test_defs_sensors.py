"""The grant alert sensor and the grant-gated schedules, with a real loopback webhook."""

from __future__ import annotations

import contextlib
import json
import socketserver
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.storage.tags import RUN_KEY_TAG

from outreach_pipeline.auth.errors import LOGIN_HINT
from outreach_pipeline.auth.grant import Grant, TokenResponse
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.catalog import catalog
from outreach_pipeline.defs.alerts import AlertsResource
from outreach_pipeline.defs.grant_health import (
    GRANT_HEALTH_JOB,
    GRANT_HEALTH_KEY,
    GRANT_USABLE,
    grant_health,
    grant_health_job,
)
from outreach_pipeline.defs.schedules import build_schedules
from outreach_pipeline.defs.sensors import ALERT_JOB, grant_alert_job, grant_alerts, log_grant_alert
from outreach_pipeline.settings import DEFAULT_GRANT, CredentialKind, Secret
from tests.defs.ui_support import auth_logout

DAY = 24 * 3600


class Webhook:
    """A loopback HTTP receiver recording the JSON bodies POSTed to it."""

    def __init__(self, status: int = 200) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self) -> list[str]:
        return [body["text"] for body in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """Just enough of an SMTP server on loopback to take messages and keep their bodies."""

    def __init__(self) -> None:
        messages: list[str] = []
        self.messages = messages

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 test ESMTP\r\n")
                while line := self.rfile.readline():
                    command = line.strip().upper()
                    if command == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        body = b"".join(iter(self.rfile.readline, b".\r\n"))
                        messages.append(body.decode())
                        self.wfile.write(b"250 queued\r\n")
                    elif command == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


def save_grant(resources: dict[str, Any], kind: CredentialKind, age: float, **changes: Any) -> None:
    """A grant obtained ``age`` seconds ago (never refreshed since), saved in the store."""
    response = TokenResponse(Secret("access"), Secret("refresh"), 7200.0, ("users.read",))
    grant = Grant.from_token_response(response, kind, time.time() - age)
    open_token_store(resources["outreach"].settings()).save(replace(grant, **changes))


def forget_grant(resources: dict[str, Any]) -> None:
    open_token_store(resources["outreach"].settings()).delete()


def evaluate(
    resources: dict[str, Any],
    alerts: AlertsResource,
    cursor: str | None = None,
    instance: dg.DagsterInstance | None = None,
) -> dg.SensorResult:
    """One evaluation of the sensor on ``instance`` (default: a new, empty one)."""
    with contextlib.ExitStack() as stack:
        if instance is None:
            instance = stack.enter_context(dg.instance_for_test())
        context = stack.enter_context(
            dg.build_sensor_context(
                instance=instance,
                cursor=cursor,
                resources={"outreach": resources["outreach"], "alerts": alerts},
            )
        )
        result = grant_alerts(context)
    assert isinstance(result, dg.SensorResult)
    return result


def alert_requests(result: dg.SensorResult) -> list[dg.RunRequest]:
    """The ``outreach_grant_alert`` runs the tick asked for (not the grant health record)."""
    return [r for r in result.run_requests or [] if r.job_name == ALERT_JOB]


def alert_config(request: dg.RunRequest) -> dict[str, Any]:
    """The ``outreach_grant_alert`` run's op config, as the sensor requested it."""
    config = request.run_config
    assert isinstance(config, dict)
    return config["ops"][log_grant_alert.name]["config"]


def test_alerts_once_per_incident_then_resolves(
    resources: dict, webhook: Webhook, instance: dg.DagsterInstance
) -> None:
    alerts = AlertsResource(variables={"OUTREACH_ALERT_WEBHOOK_URL": webhook.url})
    forget_grant(resources)

    first = sensor_tick(instance, resources, alerts, None)
    again = sensor_tick(instance, resources, alerts, first.cursor)
    save_grant(resources, "production", age=60)
    resolved = sensor_tick(instance, resources, alerts, again.cursor)
    quiet = sensor_tick(instance, resources, alerts, resolved.cursor)

    assert len(webhook.texts()) == 2
    assert "No Outreach grant is stored" in webhook.texts()[0]
    assert "outreach-pipeline auth login" in webhook.texts()[0]
    assert webhook.texts()[1].startswith("Resolved: No Outreach grant")
    assert again.skip_reason is not None and "already alerted" in again.skip_reason.skip_message
    assert json.loads(resolved.cursor or "") == {}
    assert quiet.skip_reason is not None
    assert quiet.skip_reason.skip_message == "the Outreach grant is healthy"


def test_realerts_after_a_day(resources: dict, webhook: Webhook) -> None:
    alerts = AlertsResource(variables={"OUTREACH_ALERT_WEBHOOK_URL": webhook.url})
    forget_grant(resources)
    first = json.loads(evaluate(resources, alerts).cursor or "")
    first[DEFAULT_GRANT]["no_grant"]["at"] -= DAY + 1

    evaluate(resources, alerts, json.dumps(first))

    assert len(webhook.texts()) == 2
    # The same alert; only the authorize URL's throwaway state differs.
    first_text, second_text = (text.split("&state=")[0] for text in webhook.texts())
    assert first_text == second_text


def test_a_grant_marked_for_reauthorization_is_an_incident(
    resources: dict, webhook: Webhook
) -> None:
    grant_reason = "the refresh token was refused (invalid_grant)"
    save_grant(resources, "production", age=60)
    store = open_token_store(resources["outreach"].settings())
    grant = store.load()
    assert grant is not None
    store.save(grant.needing_reauthorization(grant_reason, time.time()))

    evaluate(resources, AlertsResource(variables={"OUTREACH_ALERT_WEBHOOK_URL": webhook.url}))

    (text,) = webhook.texts()
    assert grant_reason in text and "outreach-pipeline auth login" in text


@pytest.mark.parametrize(
    ("kind", "age", "refreshed_ago", "expected"),
    [
        ("development", 6.5 * DAY, DAY, "weekly expiry in 11h"),
        ("production", 13.5 * DAY, None, "refresh token expires unused in 11h"),
    ],
)
def test_expiries_within_a_day_are_incidents(
    resources: dict,
    webhook: Webhook,
    kind: CredentialKind,
    age: float,
    refreshed_ago: float | None,
    expected: str,
) -> None:
    refreshed_at = None if refreshed_ago is None else time.time() - refreshed_ago
    save_grant(resources, kind, age, refreshed_at=refreshed_at)

    evaluate(resources, AlertsResource(variables={"OUTREACH_ALERT_WEBHOOK_URL": webhook.url}))

    (text,) = webhook.texts()
    assert expected in text


def test_alerts_go_by_mail_when_smtp_is_configured(resources: dict, webhook: Webhook) -> None:
    smtp = SmtpReceiver()
    try:
        alerts = AlertsResource(
            variables={
                "OUTREACH_ALERT_WEBHOOK_URL": webhook.url,
                "OUTREACH_ALERT_SMTP_HOST": "127.0.0.1",
                "OUTREACH_ALERT_SMTP_PORT": str(smtp.port),
                "OUTREACH_ALERT_SMTP_STARTTLS": "false",
                "OUTREACH_ALERT_MAIL_TO": "ops@example.com",
            }
        )
        forget_grant(resources)

        result = evaluate(resources, alerts)
    finally:
        smtp.close()

    (message,) = smtp.messages
    assert "To: ops@example.com" in message
    assert "No Outreach grant is stored" in message
    assert len(webhook.texts()) == 1
    (request,) = alert_requests(result)
    assert alert_config(request)["failed_channels"] == []


def test_a_failing_channel_never_stops_the_sensor(resources: dict) -> None:
    failing = Webhook(status=500)
    try:
        forget_grant(resources)
        unreachable = AlertsResource(
            variables={"OUTREACH_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/hook"}, timeout_s=2
        )
        erroring = AlertsResource(variables={"OUTREACH_ALERT_WEBHOOK_URL": failing.url})

        for alerts in (unreachable, erroring):
            result = evaluate(resources, alerts)
            (request,) = alert_requests(result)
            (problem,) = alert_config(request)["failed_channels"]
            assert problem.startswith("webhook: ")
            assert "no_grant" in json.loads(result.cursor or "")[DEFAULT_GRANT]
        assert len(failing.received) == 1
    finally:
        failing.close()


def test_schedules_skip_while_the_grant_needs_reauthorization(resources: dict) -> None:
    tick = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    for schedule in build_schedules():
        with dg.build_schedule_context(
            scheduled_execution_time=tick, resources={"outreach": resources["outreach"]}
        ) as context:
            requests = schedule(context)
        assert isinstance(requests, list)
        assert [r.partition_key for r in requests] == [DEFAULT_GRANT]
    forget_grant(resources)
    for schedule in build_schedules():
        with dg.build_schedule_context(
            scheduled_execution_time=tick, resources={"outreach": resources["outreach"]}
        ) as context:
            skipped = schedule(context)
        assert isinstance(skipped, dg.SkipReason)
        assert "outreach-pipeline auth login" in str(skipped.skip_message)


def launch(instance: dg.DagsterInstance, requests: list[dg.RunRequest], resources: dict) -> None:
    """Launch the requested runs as the sensor daemon does: a run key launches once."""
    jobs = dg.Definitions(
        assets=[grant_health],
        jobs=[grant_alert_job, grant_health_job],
        resources={"outreach": resources["outreach"]},
    )
    for request in requests:
        tags = dict(request.tags)
        if request.run_key is not None:
            if instance.get_runs(dg.RunsFilter(tags={RUN_KEY_TAG: request.run_key})):
                continue
            tags[RUN_KEY_TAG] = request.run_key
        job = jobs.resolve_job_def(request.job_name or "")
        config = request.run_config
        assert isinstance(config, dict)
        assert job.execute_in_process(
            run_config=config, instance=instance, tags=tags, partition_key=request.partition_key
        ).success


def sensor_tick(
    instance: dg.DagsterInstance, resources: dict, alerts: AlertsResource, cursor: str | None
) -> dg.SensorResult:
    """One sensor tick as the daemon runs it: evaluate, record its events, launch its runs."""
    result = evaluate(resources, alerts, cursor, instance)
    for partitions in result.dynamic_partitions_requests or []:
        assert isinstance(partitions, dg.AddDynamicPartitionsRequest)
        instance.add_dynamic_partitions(partitions.partitions_def_name, partitions.partition_keys)
    for event in result.asset_events:
        instance.report_runless_asset_event(event)
    launch(instance, list(result.run_requests or []), resources)
    return result


def logout(resources: dict, workdir: Path) -> None:
    outreach = resources["outreach"]
    auth_logout(outreach.variables, workdir)


def asset_page(instance: dg.DagsterInstance) -> tuple[dict[str, Any], bool]:
    """What the grant_health asset page leads with: its latest materialization's metadata and
    whether its check's latest execution passed."""
    (latest,) = instance.fetch_materializations(GRANT_HEALTH_KEY, limit=1).records
    metadata = {k: v.value for k, v in latest.asset_materialization.metadata.items()}
    check_key = dg.AssetCheckKey(GRANT_HEALTH_KEY, GRANT_USABLE)
    (execution,) = instance.event_log_storage.get_asset_check_execution_history(check_key, 1)
    return metadata, execution.status.value == "SUCCEEDED"


def test_the_grant_health_page_follows_a_logout_and_a_login(
    resources: dict, webhook: Webhook, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    """After ``auth logout`` and one tick the asset page says the grant needs a person; after
    a new login and one tick, that it is usable again. Unchanged, a tick records nothing."""
    alerts = AlertsResource(variables={"OUTREACH_ALERT_WEBHOOK_URL": webhook.url})
    first = sensor_tick(instance, resources, alerts, None)
    metadata, passed = asset_page(instance)
    assert metadata["needs_reauthorization"] is False
    assert passed

    logout(resources, tmp_path)
    after_logout = sensor_tick(instance, resources, alerts, first.cursor)
    metadata, passed = asset_page(instance)
    assert metadata["needs_reauthorization"] is True
    assert metadata["reason"] == "no grant is stored"
    assert not passed
    still = sensor_tick(instance, resources, alerts, after_logout.cursor)
    assert not still.run_requests  # nothing changed: nothing recorded again

    save_grant(resources, "production", age=60)
    sensor_tick(instance, resources, alerts, still.cursor)
    metadata, passed = asset_page(instance)
    assert metadata["needs_reauthorization"] is False
    assert passed
    health_runs = instance.get_runs(dg.RunsFilter(job_name=GRANT_HEALTH_JOB))
    assert len(health_runs) == 3


def health_requests(result: dg.SensorResult) -> list[dg.RunRequest]:
    return [r for r in result.run_requests or [] if r.job_name == GRANT_HEALTH_JOB]


def test_a_page_left_stale_is_corrected_on_the_next_tick(
    resources: dict, webhook: Webhook, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    """The sensor compares the grant with what the page shows, not with what it asked for
    before: a health run that failed (or never ran) is asked for again, under the same run
    key while the page is unchanged, so a queued one is not launched twice."""
    alerts = AlertsResource(variables={"OUTREACH_ALERT_WEBHOOK_URL": webhook.url})
    first = sensor_tick(instance, resources, alerts, None)
    logout(resources, tmp_path)

    lost = evaluate(resources, alerts, first.cursor, instance)  # its health run never ran
    again = evaluate(resources, alerts, lost.cursor, instance)

    (asked,) = health_requests(lost)
    (asked_again,) = health_requests(again)
    assert asked_again.run_key == asked.run_key
    launch(instance, [asked_again], resources)
    assert asset_page(instance)[0]["needs_reauthorization"] is True
    assert not health_requests(evaluate(resources, alerts, again.cursor, instance))


def test_alerts_show_in_the_ui_as_observations_and_one_run_each(
    resources: dict, webhook: Webhook, instance: dg.DagsterInstance
) -> None:
    alerts = AlertsResource(variables={"OUTREACH_ALERT_WEBHOOK_URL": webhook.url})
    forget_grant(resources)

    opened = evaluate(resources, alerts)
    replayed = evaluate(resources, alerts)  # the same tick again, its cursor never saved
    quiet = evaluate(resources, alerts, opened.cursor)
    save_grant(resources, "production", age=60)
    resolved = evaluate(resources, alerts, quiet.cursor)
    ticks = [opened, replayed, quiet, resolved]
    for tick in ticks:
        launch(instance, list(tick.run_requests or []), resources)
        for event in tick.asset_events:
            instance.report_runless_asset_event(event)

    assert not alert_requests(quiet) and not quiet.asset_events
    assert [r.run_key for r in alert_requests(opened)] == [
        r.run_key for r in alert_requests(replayed)
    ]
    runs = instance.get_runs(dg.RunsFilter(job_name=ALERT_JOB))
    assert len(runs) == 2  # the replayed tick's run key was launched already
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    logged = [
        entry.user_message
        for run in runs
        for entry in instance.all_logs(run.run_id)
        if entry.step_key == log_grant_alert.name and "No Outreach grant" in entry.user_message
    ]
    assert any(text.startswith("Resolved: No Outreach grant") for text in logged)
    assert any(text.startswith("No Outreach grant is stored") for text in logged)

    records = instance.fetch_observations(GRANT_HEALTH_KEY, limit=10).records
    states = [r.asset_observation.metadata["state"].value for r in reversed(records)]
    assert states == ["open", "open", "resolved"]  # one per evaluated tick that alerted
    first = records[-1].asset_observation
    assert first.metadata["incident"].value == "no_grant"
    assert first.metadata["action"].value == LOGIN_HINT
    assert str(first.metadata["authorize_url"].value).startswith(
        resources["outreach"].settings().oauth_url + "/authorize?"
    )
    assert len(first.metadata["blocked_streams"].value) == len(catalog())


class SlackApi:
    """A loopback stand-in for Slack's Web API: records chat.postMessage calls."""

    def __init__(self, error: str | None = None) -> None:
        calls: list[tuple[str, str, dict[str, Any]]] = []
        self.calls = calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                calls.append((self.path, self.headers["Authorization"], body))
                answer = {"ok": False, "error": error} if error else {"ok": True, "ts": "1.0"}
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_alerts_go_to_slack(resources: dict) -> None:
    slack = SlackApi()
    try:
        alerts = AlertsResource(
            variables={
                "OUTREACH_ALERT_SLACK_TOKEN": "xoxb-test",
                "OUTREACH_ALERT_SLACK_CHANNEL": "#data-ops",
            },
            slack_api_url=slack.url,
        )
        forget_grant(resources)
        result = evaluate(resources, alerts)
    finally:
        slack.close()

    ((path, authorization, body),) = slack.calls
    assert path == "/api/chat.postMessage"
    assert authorization == "Bearer xoxb-test"
    assert body["channel"] == "#data-ops"
    assert body["text"].startswith("No Outreach grant is stored")
    (request,) = alert_requests(result)
    assert alert_config(request)["failed_channels"] == []


def test_a_slack_refusal_is_reported_not_raised(resources: dict) -> None:
    slack = SlackApi(error="channel_not_found")
    try:
        alerts = AlertsResource(
            variables={
                "OUTREACH_ALERT_SLACK_TOKEN": "xoxb-test",
                "OUTREACH_ALERT_SLACK_CHANNEL": "#gone",
            },
            slack_api_url=slack.url,
        )
        forget_grant(resources)
        result = evaluate(resources, alerts)
    finally:
        slack.close()

    (request,) = alert_requests(result)
    (problem,) = alert_config(request)["failed_channels"]
    assert problem.startswith("slack: SlackApiError") and "channel_not_found" in problem
    assert "xoxb-test" not in problem
