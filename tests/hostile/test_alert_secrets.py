"""Alert channels whose servers refuse and echo what they were sent: the webhook URL (with its
secret path), the Slack bot token and the SMTP password reach no run config, event log,
Dagster storage file or captured log, while each failure is still reported (channel, error
class, status).

The webhook and Slack API are tests/hostile/server.py answering 4xx/5xx with the request
echoed back; the SMTP server echoes the decoded AUTH PLAIN credentials in its 535 refusal.
"""

from __future__ import annotations

import base64
import logging
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
import pytest

from outreach_emulator import Emulator
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.defs.alerts import AlertsResource
from outreach_pipeline.defs.sensors import ALERT_JOB, grant_alert_job, grant_alerts
from tests.defs.conftest import emulator_resources
from tests.hostile.server import HostileServer, Reply, Seen

WEBHOOK_PATH = "/services/T0HOSTILE/B0HOSTILE/webhookSecretPath7f3a9c"
SLACK_TOKEN = "xoxb-hostile-slack-token-4b1e"
SMTP_PASSWORD = "smtp-password-never-shown-9d2c"


def echoing(status: int) -> Any:
    """An answer with ``status`` whose body is the request as received: line, headers, body
    (as Slack's ``error``; a 200 is a success for the webhook and a refusal for Slack)."""

    def answer(seen: Seen) -> Reply:
        echo = {
            "ok": False,
            "error": f"{seen.method} {seen.target} {seen.headers} {seen.body.decode()}",
        }
        return Reply(status=status, body=orjson.dumps(echo), content_type="application/json")

    return answer


class EchoingSmtp:
    """An SMTP server offering AUTH PLAIN and refusing it with the decoded credentials."""

    def __init__(self) -> None:
        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 hostile ESMTP\r\n")
                while line := self.rfile.readline():
                    command = line.strip()
                    if command.upper().startswith(b"EHLO"):
                        self.wfile.write(b"250-hostile\r\n250 AUTH PLAIN\r\n")
                    elif command.upper().startswith(b"AUTH PLAIN"):
                        sent = base64.b64decode(command.split()[-1]).replace(b"\0", b" ")
                        self.wfile.write(b"535 5.7.8 refused: " + sent + b"\r\n")
                    elif command.upper() == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp() -> Iterator[EchoingSmtp]:
    server = EchoingSmtp()
    yield server
    server.close()


def _launch(instance: dg.DagsterInstance, requests: list[dg.RunRequest]) -> None:
    """Run the requested alert runs on ``instance``, as the sensor daemon would."""
    job = dg.Definitions(jobs=[grant_alert_job]).resolve_job_def(ALERT_JOB)
    for request in requests:
        assert isinstance(request.run_config, dict)
        assert job.execute_in_process(run_config=request.run_config, instance=instance).success


def _stored(folder: Path) -> bytes:
    return b"\n".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


@pytest.mark.parametrize("status", [200, 403, 404, 500, 503])
def test_refusing_echoing_channels_leak_no_secret(
    status: int,
    emulator: Emulator,
    smtp: EchoingSmtp,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    resources = emulator_resources(emulator, tmp_path)
    open_token_store(resources["outreach"].settings()).delete()  # an incident to alert
    (tmp_path / "dagster").mkdir()
    with (
        HostileServer(echoing(status)) as webhook,
        HostileServer(echoing(status)) as slack,
        dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance,
    ):
        webhook_url = webhook.url + WEBHOOK_PATH
        alerts = AlertsResource(
            variables={
                "OUTREACH_ALERT_WEBHOOK_URL": webhook_url,
                "OUTREACH_ALERT_SLACK_TOKEN": SLACK_TOKEN,
                "OUTREACH_ALERT_SLACK_CHANNEL": "#data-ops",
                "OUTREACH_ALERT_SMTP_HOST": "127.0.0.1",
                "OUTREACH_ALERT_SMTP_PORT": str(smtp.port),
                "OUTREACH_ALERT_SMTP_STARTTLS": "false",
                "OUTREACH_ALERT_SMTP_USER": "alerts",
                "OUTREACH_ALERT_SMTP_PASSWORD": SMTP_PASSWORD,
                "OUTREACH_ALERT_MAIL_TO": "ops@example.com",
            },
            slack_api_url=slack.url + "/api/",
        )
        with dg.build_sensor_context(
            instance=instance, resources={"outreach": resources["outreach"], "alerts": alerts}
        ) as context:
            result = grant_alerts(context)
        assert isinstance(result, dg.SensorResult)
        # The tick also asks for a grant_health run (its page follows the grant): not an alert.
        requests = [r for r in result.run_requests or [] if r.job_name == ALERT_JOB]
        _launch(instance, requests)
        for event in result.asset_events:
            instance.report_runless_asset_event(event)
        runs = instance.get_runs()
        shown = [
            repr(result),
            *(repr(run.run_config) for run in runs),
            *(repr(entry) for run in runs for entry in instance.all_logs(run.run_id)),
        ]
        # Each channel was really tried, and sent what it was given.
        assert webhook.requests_to(WEBHOOK_PATH)
        assert slack.requests_to("/api/chat.postMessage")[0].authorization == (
            f"Bearer {SLACK_TOKEN}"
        )
    stored = _stored(tmp_path / "dagster")
    captured = capsys.readouterr()
    shown += [captured.out, captured.err, caplog.text, *(r.getMessage() for r in caplog.records)]
    text = "\n".join(shown)

    (request,) = requests
    problems = request.run_config["ops"]["log_grant_alert"]["config"]["failed_channels"]
    webhook_failed = [f"webhook: HTTPStatusError {status}"] if status >= 400 else []
    assert problems == [
        *webhook_failed,
        f"slack: SlackApiError {status} not ok",  # Slack's "error" was the echo: not shown
        "smtp: SMTPAuthenticationError 535",
    ]
    assert len(runs) == 1 and "alert channel failed: slack" in text
    secret_path = WEBHOOK_PATH.rsplit("/", 1)[1]
    secrets = {webhook_url, WEBHOOK_PATH, secret_path, SLACK_TOKEN, SMTP_PASSWORD}
    leaked = sum(1 for s in secrets if s in text or s.encode() in stored)
    assert leaked == 0, "secrets shown (not listed here, so a failure shows none)"


def test_an_unreachable_webhook_is_reported_without_its_url(emulator: Emulator) -> None:
    alerts = AlertsResource(
        variables={"OUTREACH_ALERT_WEBHOOK_URL": "http://127.0.0.1:9" + WEBHOOK_PATH}, timeout_s=2
    )
    assert alerts.send("grant alert") == ["webhook: ConnectError"]
    malformed = {
        "127.0.0.1:9": "webhook: UnsupportedProtocol",
        "http://[::1": "webhook: InvalidURL",  # not an httpx.HTTPError
        "http://127.0.0.1:9/\n": "webhook: InvalidURL",
    }
    for start, problem in malformed.items():
        assert AlertsResource(variables={"OUTREACH_ALERT_WEBHOOK_URL": start + WEBHOOK_PATH}).send(
            "alert"
        ) == [problem]
