"""The auth layer's exceptions. Every message is one line, safe to print and to store: none
carries a secret, and transport errors from httpx (whose requests hold form bodies and headers)
are wrapped, never chained, so a traceback cannot show them either.

Whatever goes wrong in the auth layer leaves it as an :class:`AuthError` (see
:func:`auth_boundary`), so a command can print it as one line and a sync can record it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from outreach_pipeline.redaction import redact
from outreach_pipeline.settings import DEFAULT_GRANT, Secret, SettingsError
from outreach_pipeline.transport import Interrupted


def grant_named(grant: str) -> str:
    """`` NAME`` after "grant" in a message; nothing for the default grant, whose messages stay
    what they were before grants had names."""
    return "" if grant == DEFAULT_GRANT else f" {grant}"


def login_command(grant: str = DEFAULT_GRANT) -> str:
    """The command that authorizes ``grant`` (the plain one for the default grant): among
    several grants, a plain ``auth login`` would log in the default one instead."""
    option = grant_named(grant) and f" --grant {grant}"
    return f"outreach-pipeline auth login{option}"


def login_hint(grant: str = DEFAULT_GRANT) -> str:
    """What to run to authorize ``grant`` again."""
    return f"run `{login_command(grant)}` to authorize again"


LOGIN_HINT = login_hint()
# Text from outside (a server's error field, an exception's message) is cut to this length.
OUTSIDE_TEXT_LIMIT = 200
_CONTROL_OR_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


def outside_text(text: str, limit: int = OUTSIDE_TEXT_LIMIT) -> str:
    """``text`` from a server or a foreign exception made fit for a one-line message: secrets
    masked, control characters and line breaks (terminal escapes, forged log lines) folded to
    single spaces, cut to ``limit`` characters."""
    flat = _CONTROL_OR_SPACE.sub(" ", redact(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class AuthError(Exception):
    """Base of every auth failure."""


class ReauthorizationRequired(AuthError):
    """The grant is gone (revoked, expired, refused) or absent: a person has to log in again,
    with the command the message names for ``grant``."""

    def __init__(self, reason: str, grant: str = DEFAULT_GRANT) -> None:
        super().__init__(f"{reason}; {login_hint(grant)}")
        self.reason = reason
        self.grant = grant


class AuthorizationFailed(AuthError):
    """The browser authorization did not produce a grant (state mismatch, denial, bad code)."""


class TokenEndpointUnavailable(AuthError):
    """The token endpoint kept failing transiently (429, 5xx, timeouts) until retries ran out,
    or asked to wait longer than a token request may."""


class UnexpectedTokenAnswer(AuthError):
    """The token endpoint answered something no OAuth server should (HTML, a redirect, a 403,
    a token that cannot be used): ``problem`` says what, ``hint`` what to do.
    ``rotated_refresh_token`` is a usable new refresh token the answer carried, if any (the old
    one may be spent by it)."""

    def __init__(
        self, problem: str, hint: str, rotated_refresh_token: Secret | None = None
    ) -> None:
        super().__init__(f"{problem}; {hint}")
        self.problem = problem
        self.rotated_refresh_token = rotated_refresh_token


class TokenRequestRefused(AuthError):
    """The token endpoint refused the grant or code (HTTP 400): retrying will not help."""

    def __init__(self, error: str, description: str) -> None:
        error, description = outside_text(error), outside_text(description)
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


class ClientRejected(AuthError):
    """The token endpoint refused the client id/secret: a configuration problem, not the grant's."""


class S2STokenRefused(AuthError):
    """The S2S exchange refused the app token, or the API refused the S2S access token."""


class TokenStoreError(AuthError):
    """The token store cannot be read or written (corrupt file, wrong encryption key)."""


class UnexpectedAuthFailure(AuthError):
    """A failure the auth layer has no specific message for, wrapped by :func:`auth_boundary`."""


@contextmanager
def auth_boundary(what: str) -> Iterator[None]:
    """Let :class:`AuthError` and a run's stop (:class:`Interrupted`, e.g. ending a token
    request's retry wait) through and turn any other exception into
    :class:`UnexpectedAuthFailure` naming ``what`` failed (the original's type and redacted
    first words; never chained, since its arguments may hold a request or a token)."""
    try:
        yield
    except (AuthError, Interrupted):
        raise
    except SettingsError as error:  # e.g. a stored grant of credentials no longer configured
        raise AuthError(str(error)) from None
    except Exception as error:
        detail = outside_text(str(error), 120)
        raise UnexpectedAuthFailure(
            f"{what} failed unexpectedly ({type(error).__name__}{': ' + detail if detail else ''});"
            " the stored grant is kept: try again, and report it if it persists"
        ) from None
