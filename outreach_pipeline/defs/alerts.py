"""Where grant alerts go besides the Dagster UI: a webhook, Slack and e-mail, each optional.

The webhook gets a JSON POST whose ``text`` field Slack (and most chat tools) display as is, so
a Slack incoming-webhook URL works there without a bot. Slack proper goes through
``slack_sdk``'s ``WebClient`` (built here rather than through dagster-slack, so that it
logs through a masking logger): a bot token and a channel, ``chat.postMessage``. E-mail goes
through SMTP when a host and recipients are configured. ``send`` tries every configured
channel and reports failures instead of raising, so a broken channel never stops the sensor
(or the other channels).

The channels are the ``OUTREACH_ALERT_*`` settings. The webhook URL (a Slack incoming-webhook
URL is itself the credential), the Slack token and the SMTP password are secret settings
(``SecretStr``, registered for redaction as they are read), so
:func:`~outreach_pipeline.redaction.redact` knows them, and a failure is reported as its channel,
error class and status only. An error's text is never reported: httpx puts the request URL in
it, and a hostile server decides what Slack's or the SMTP server's answer says (it can echo
what it was sent). The report goes to the sensor's log and into the alert run's config.
"""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage

import httpx
from pydantic import Field, SecretStr
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from outreach_pipeline.defs.resources import SettingsResource
from outreach_pipeline.redaction import redact, redacted_logger
from outreach_pipeline.settings import Settings, SettingsError

SUBJECT = "Outreach pipeline: grant alert"


class AlertsResource(SettingsResource):
    """Alert channels for the Outreach grant, configured by the ``OUTREACH_ALERT_*``
    settings; unset channels are skipped."""

    slack_api_url: str | None = Field(
        default=None, description="Slack Web API base URL; unset: Slack's own."
    )
    timeout_s: float = Field(default=10.0, description="Per-channel network timeout.")

    def send(self, text: str) -> list[str]:
        """Deliver ``text`` on every configured channel; one problem line per failed channel
        (or one naming the bad setting, when the settings are not valid)."""
        try:
            settings = self.settings()
        except SettingsError as error:
            return [f"settings: {error}"]
        problems = []
        if settings.alert_webhook_url is not None:
            try:
                self._webhook(settings.alert_webhook_url, text)
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                problems.append(_problem("webhook", error, _http_status(error)))
        if settings.alert_slack_token is not None and settings.alert_slack_channel:
            try:
                self._slack(settings.alert_slack_token, settings.alert_slack_channel, text)
            except (SlackClientError, OSError, ValueError) as error:
                problems.append(_problem("slack", error, _slack_status(error)))
        if settings.alert_smtp_host and settings.alert_mail_to:
            try:
                self._mail(settings, text)
            except (OSError, smtplib.SMTPException, ValueError) as error:
                problems.append(_problem("smtp", error, _smtp_status(error)))
        return problems

    def _webhook(self, url: SecretStr, text: str) -> None:
        answer = httpx.post(url.get_secret_value(), json={"text": text}, timeout=self.timeout_s)
        answer.raise_for_status()

    def _slack(self, token: SecretStr, channel: str, text: str) -> None:
        # slack_sdk logs each answer's body (a hostile server can echo the token into it) to
        # the client's logger: give it one that masks secrets.
        client = WebClient(
            token=token.get_secret_value(),
            base_url=(self.slack_api_url or WebClient.BASE_URL).rstrip("/") + "/",
            timeout=int(self.timeout_s),
            logger=_SLACK_LOG,
        )
        client.chat_postMessage(channel=channel, text=text)

    def _mail(self, settings: Settings, text: str) -> None:
        assert settings.alert_smtp_host is not None and settings.alert_mail_to is not None
        message = EmailMessage()
        message["Subject"] = SUBJECT
        message["From"] = settings.alert_mail_from
        message["To"] = settings.alert_mail_to
        message.set_content(text)
        host, port = settings.alert_smtp_host, settings.alert_smtp_port
        with smtplib.SMTP(host, port, timeout=self.timeout_s) as smtp:
            if settings.alert_smtp_starttls:
                smtp.starttls()
            password = settings.alert_smtp_password
            if settings.alert_smtp_user and password is not None:
                smtp.login(settings.alert_smtp_user, password.get_secret_value())
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
