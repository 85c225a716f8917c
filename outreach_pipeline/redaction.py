"""Keeping secrets out of text that leaves the process: logs, errors, stored run records.

Every :class:`~outreach_pipeline.settings.Secret` registers its value here when created, so
whatever the process holds (client secrets, access and refresh tokens, webhook URLs) is known
without each caller remembering to say so. :func:`redact` replaces each known value, and
anything shaped like a bearer credential or an OAuth token field, with ``***``. It is applied
where text is printed or stored from outside sources, e.g. an HTTP error body that echoes the
request, so a hostile server cannot make the pipeline write a token to disk.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict

MASK = "***"
# Shorter values (a port, "true") would mask innocent text; no real credential is this short.
MIN_SECRET_LENGTH = 8
# Tokens rotate: keep the most recent ones a long-running process has seen, not all of them.
MAX_REMEMBERED = 512

_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}"),
    re.compile(
        r"(?i)([\"']?(?:access_token|refresh_token|id_token|client_secret|password)"
        r"[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]{4,}"
    ),
)

_lock = threading.Lock()
_known: OrderedDict[str, None] = OrderedDict()


def remember(value: str) -> None:
    """Treat ``value`` as a secret from now on (values under 8 characters are ignored)."""
    if len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        _known[value] = None
        _known.move_to_end(value)
        while len(_known) > MAX_REMEMBERED:
            _known.popitem(last=False)


def redact(text: str) -> str:
    """``text`` with every remembered secret and every token-shaped credential masked."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _PATTERNS[1].sub(lambda m: f"{m.group(1)}{MASK}", text)


def redact_and_cap(text: str, limit: int = 2000) -> str:
    """:func:`redact`, then cut to ``limit`` characters (marked), for text that is stored."""
    text = redact(text)
    if len(text) > limit:
        return text[: limit - 20] + f"... ({len(text) - limit + 20} more)"
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in each record's message (see :func:`redact`).

    A filter added to a logger sees only the records created on that logger, so add it to the
    logger a library writes to (``httpx``) or hand the library a logger that has it; then every
    handler, ours or a log collector's, gets the masked text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def redacted_logger(name: str) -> logging.Logger:
    """The logger ``name`` with a :class:`RedactingFilter` (added once)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
