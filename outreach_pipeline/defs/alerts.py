"""Where grant alerts go besides the Dagster UI: a webhook, Slack and e-mail, each optional.

The webhook gets a JSON POST whose ``text`` field Slack (and most chat tools) display as is, so
a Slack incoming-webhook URL works there without a bot. Slack proper goes through
``slack_sdk``'s ``WebClient`` (built here rather than through dagster-slack, so that it
logs through a masking logger): a bot token and a channel, ``chat.postMessage``. E-mail goes
through SMTP when a host and recipients are configured. ``send`` tries every configured
channel and reports failures instead of raising, so a broken channel never stops the sensor
(or the other channels).

The webhook URL (a Slack incoming-webhook URL is itself the credential), the Slack token and
the SMTP password are secrets: they are held as :class:`~outreach_pipeline.settings.Secret`, so
:func:`~outreach_pipeline.redaction.redact` knows them, and a failure is reported as its channel,
error class and status only. An error's text is never reported: httpx puts the request URL in
it, and a hostile server decides what Slack's or the SMTP server's answer says (it can echo
what it was sent). The report goes to the sensor's log and into the alert run's config.
"""

from __future__ import annotations

import os
import re
import smtplib
from email.message import EmailMessage

import dagster as dg
import httpx
from pydantic import Field
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from outreach_pipeline.defs.resources import optional_env_var
from outreach_pipeline.redaction import redact, redacted_logger
from outreach_pipeline.settings import Secret

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
                self._webhook(Secret(self.webhook_url), text)
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                problems.append(_problem("webhook", error, _http_status(error)))
        if self.slack_token and self.slack_channel:
            try:
                self._slack(Secret(self.slack_token), self.slack_channel, text)
            except (SlackClientError, OSError, ValueError) as error:
                problems.append(_problem("slack", error, _slack_status(error)))
        if self.smtp_host and self.mail_to:
            try:
                self._mail(text)
            except (OSError, smtplib.SMTPException, ValueError) as error:
                problems.append(_problem("smtp", error, _smtp_status(error)))
        return problems

    def _webhook(self, url: Secret, text: str) -> None:
        answer = httpx.post(url.reveal(), json={"text": text}, timeout=self.timeout_s)
        answer.raise_for_status()

    def _slack(self, token: Secret, channel: str, text: str) -> None:
        # slack_sdk logs each answer's body (a hostile server can echo the token into it) to
        # the client's logger: give it one that masks secrets.
        client = WebClient(
            token=token.reveal(),
            base_url=(self.slack_api_url or WebClient.BASE_URL).rstrip("/") + "/",
            timeout=int(self.timeout_s),
            logger=_SLACK_LOG,
        )
        client.chat_postMessage(channel=channel, text=text)

    def _mail(self, text: str) -> None:
        assert self.smtp_host is not None and self.mail_to is not None
        password = Secret(self.smtp_password) if self.smtp_password else None
        message = EmailMessage()
        message["Subject"] = SUBJECT
        message["From"] = self.mail_from
        message["To"] = self.mail_to
        message.set_content(text)
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout_s) as smtp:
            if self.smtp_starttls:
                smtp.starttls()
            if self.smtp_user and password is not None:
                smtp.login(self.smtp_user, password.reveal())
            smtp.send_message(message)


_SLACK_LOG = redacted_logger("outreach_pipeline.alerts.slack")
# httpx logs every request's URL at INFO: the webhook URL is the secret.
redacted_logger("httpx")
_SLACK_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")


def _problem(channel: str, error: BaseException, status: str | None) -> str:
    """``webhook: HTTPStatusError 404``: the channel, the error's class and its status."""
    return redact(f"{channel}: {type(error).__name__}" + (f" {status}" if status else ""))


def _http_status(error: Exception) -> str | None:
    if isinstance(error, httpx.HTTPStatusError):
        return str(error.response.status_code)
    return None


def _slack_status(error: BaseException) -> str | None:
    """For a Slack API refusal, the HTTP status and Slack's error code (``not_in_channel``)
    when it is shaped like one: the code is the answer's own text."""
    if not isinstance(error, SlackApiError):
        return None
    code = error.response.get("error")
    shown = code if isinstance(code, str) and _SLACK_ERROR_CODE.fullmatch(code) else "not ok"
    return f"{error.response.status_code} {shown}"


def _smtp_status(error: BaseException) -> str | None:
    """The SMTP reply code of a refusal (its text is the server's)."""
    code = getattr(error, "smtp_code", None)
    return str(code) if isinstance(code, int) else None


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
