"""A ``postgresql://`` URL whose password never shows: not in ``str``, ``repr`` or an error.

``OUTREACH_TOKEN_STORE`` may be one (the token store on PostgreSQL). Its password is a secret:
it is registered with :mod:`~outreach_pipeline.redaction` when the URL is read, and only
:meth:`PostgresUrl.reveal` gives the URL with it, for the driver.
"""

from __future__ import annotations

from urllib.parse import SplitResult, unquote, urlsplit

from outreach_pipeline.redaction import MASK, remember

SCHEMES = ("postgresql", "postgres")


def is_postgres_url(value: str) -> bool:
    """Whether ``value`` is meant as a PostgreSQL URL (its scheme says so)."""
    scheme, sep, _rest = value.partition("://")
    return bool(sep) and scheme.lower() in SCHEMES


class PostgresUrl:
    """``postgresql://[user[:password]@]host[:port]/database[?params]``, checked when made.

    ``str`` and ``repr`` show it with the password masked; :attr:`shown` is that text."""

    __slots__ = ("_url", "database", "host", "port", "shown", "user")

    def __init__(self, url: str) -> None:
        try:
            parts = urlsplit(url)
        except ValueError as error:  # "Invalid IPv6 URL": nothing safe to show of the URL
            raise ValueError(f"not a usable postgresql:// URL ({error})") from None
        if parts.password:
            remember(parts.password)
            remember(unquote(parts.password))
        user = parts.username
        login = "" if not user else f"{user}:{MASK}@" if parts.password else f"{user}@"
        self.shown = f"{parts.scheme}://{login}{parts.netloc.rpartition('@')[2]}{parts.path}"
        self._url = url
        problem = _problem(parts)
        if problem is not None:
            raise ValueError(f"not a usable postgresql:// URL ({problem}), in {self.shown!r}")
        self.host = str(parts.hostname)
        self.port = parts.port or 5432
        self.database = unquote(parts.path.lstrip("/"))
        self.user = unquote(user) if user else None

    def reveal(self) -> str:
        """The URL with its password, for the driver only."""
        return self._url

    def __str__(self) -> str:
        return self.shown

    def __repr__(self) -> str:
        return f"PostgresUrl({self.shown!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PostgresUrl) and other._url == self._url

    def __hash__(self) -> int:
        return hash(self._url)


def _problem(parts: SplitResult) -> str | None:
    """Why ``parts`` is not a URL to connect with; None when it is."""
    if parts.scheme.lower() not in SCHEMES:
        return "the scheme must be postgresql or postgres"
    try:
        port = parts.port
    except ValueError as error:  # a non-numeric or out-of-range port
        return str(error)
    if not parts.hostname:
        return "no host"
    if port == 0:
        return "port 0 is not a port to connect to"
    if not parts.path.strip("/"):
        return "no database name"
    if any(c.isspace() or ord(c) < 0x20 for c in parts.geturl()):
        return "spaces or control characters"
    return None
