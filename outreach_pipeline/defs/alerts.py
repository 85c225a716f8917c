"""Where grant alerts go besides the Dagster UI: a webhook, Slack and e-mail, each optional.

The webhook gets a JSON POST whose ``text`` field Slack (and most chat tools) display as is, so
a Slack incoming-webhook URL works there without a bot. Slack proper goes through
``dagster-slack`` (a bot token and a channel: ``chat.postMessage``). E-mail goes through SMTP
when a host and recipients are configured. ``send`` tries every
configured channel and reports failures instead of raising, so a broken channel never stops
the sensor (or the other channels).
"""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage

import dagster as dg
import httpx
from dagster_slack import SlackResource
from pydantic import Field
from slack_sdk.errors import SlackApiError, SlackClientError

from outreach_pipeline.defs.resources import optional_env_var

SUBJECT = "Outreach pipeline: grant alert"


class AlertsResource(dg.ConfigurableResource):
    """Alert channels for the Outreach grant; unset channels are skipped."""

    webhook_url: str | None = Field(
        default=None, description="Webhook receiving a JSON POST with a Slack-style `text`."
    )
    slack_token: str | None = Field(
        default=None, description="Slack bot token (chat:write); with a channel, posts there."
    )
    slack_channel: str | None = Field(default=None, description="Slack channel, e.g. #data-ops.")
    slack_api_url: str | None = Field(
        default=None, description="Slack Web API base URL; unset: Slack's own."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server; unset: no e-mail.")
    smtp_port: int = Field(default=587, description="SMTP port.")
    smtp_starttls: bool = Field(default=True, description="Upgrade with STARTTLS.")
    smtp_user: str | None = Field(default=None, description="SMTP login, when needed.")
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    mail_from: str = Field(default="outreach-pipeline@localhost", description="Sender.")
    mail_to: str | None = Field(default=None, description="Comma-separated recipients.")
    timeout_s: float = Field(default=10.0, description="Per-channel network timeout.")

    def send(self, text: str) -> list[str]:
        """Deliver ``text`` on every configured channel; one problem line per failed channel."""
        problems = []
        if self.webhook_url:
            try:
                answer = httpx.post(self.webhook_url, json={"text": text}, timeout=self.timeout_s)
                answer.raise_for_status()
            except httpx.HTTPError as error:
                problems.append(f"webhook: {type(error).__name__}: {error}")
        if self.slack_token and self.slack_channel:
            try:
                self._slack(text)
            except (SlackClientError, OSError, ValueError) as error:
                problems.append(f"slack: {type(error).__name__}: {_first_line(error)}")
        if self.smtp_host and self.mail_to:
            try:
                self._mail(text)
            except (OSError, smtplib.SMTPException) as error:
                problems.append(f"smtp: {type(error).__name__}: {error}")
        return problems

    def _slack(self, text: str) -> None:
        assert self.slack_token is not None and self.slack_channel is not None
        client = SlackResource(token=self.slack_token).get_client()
        client.timeout = int(self.timeout_s)
        if self.slack_api_url:
            client.base_url = self.slack_api_url.rstrip("/") + "/"
        client.chat_postMessage(channel=self.slack_channel, text=text)

    def _mail(self, text: str) -> None:
        assert self.smtp_host is not None and self.mail_to is not None
        message = EmailMessage()
        message["Subject"] = SUBJECT
        message["From"] = self.mail_from
        message["To"] = self.mail_to
        message.set_content(text)
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout_s) as smtp:
            if self.smtp_starttls:
                smtp.starttls()
            if self.smtp_user and self.smtp_password:
                smtp.login(self.smtp_user, self.smtp_password)
            smtp.send_message(message)


def _first_line(error: Exception) -> str:
    """The error's first line; for a Slack API refusal, Slack's error code (``not_in_channel``)."""
    if isinstance(error, SlackApiError):
        return f"Slack answered {error.response.get('error') or 'not ok'}"
    return str(error).splitlines()[0] if str(error) else ""


def alerts_from_env() -> AlertsResource:
    """Channels from ``OUTREACH_ALERT_*``; the webhook URL, Slack token and SMTP password stay
    ``EnvVar``s."""
    return AlertsResource(
        webhook_url=optional_env_var("OUTREACH_ALERT_WEBHOOK_URL"),
        slack_token=optional_env_var("OUTREACH_ALERT_SLACK_TOKEN"),
        slack_channel=os.environ.get("OUTREACH_ALERT_SLACK_CHANNEL") or None,
        smtp_host=os.environ.get("OUTREACH_ALERT_SMTP_HOST") or None,
        smtp_port=int(os.environ.get("OUTREACH_ALERT_SMTP_PORT") or 587),
        smtp_starttls=os.environ.get("OUTREACH_ALERT_SMTP_STARTTLS", "true").lower() != "false",
        smtp_user=os.environ.get("OUTREACH_ALERT_SMTP_USER") or None,
        smtp_password=optional_env_var("OUTREACH_ALERT_SMTP_PASSWORD"),
        mail_from=os.environ.get("OUTREACH_ALERT_MAIL_FROM") or "outreach-pipeline@localhost",
        mail_to=os.environ.get("OUTREACH_ALERT_MAIL_TO") or None,
    )
