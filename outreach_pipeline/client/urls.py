"""Which URLs the client may ask: only those under the configured API base.

Every request carries the bearer token, and a 401 answer makes the auth refresh it and send
the new one. So a URL that came from outside (a ``links.next`` of a page, a resume link saved
by an earlier run) is checked against the base before anything is sent: same scheme, host and
port, a path under the base's path. Anything a URL parser could read two ways is refused
outright rather than interpreted: userinfo (``http://api@other/``), backslashes, whitespace
and control characters, non-ASCII text (which would also cost an IDNA/DNS lookup), ports out
of range, ``.``/``..`` path segments, plain or percent-encoded, and URLs over
:data:`MAX_URL_CHARS`. The check is textual: it resolves no name.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit, urlunsplit

from outreach_pipeline.client.errors import FetchError

# Outreach's cursors and the refetch's id lists stay far below this; gateways refuse ~8 KB.
MAX_URL_CHARS = 16_384
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_DOT_SEGMENT = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)", re.IGNORECASE)
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c)", re.IGNORECASE)


class UnsafeUrl(FetchError):
    """A URL the client will not ask: not under the API base, or not clearly readable."""


def shown(url: str, limit: int = 160) -> str:
    """``url`` for one line of text: escaped, and cut to ``limit`` characters."""
    text = url.encode("ascii", "backslashreplace").decode("ascii")
    text = _UNSAFE_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(url)} chars)"


class ApiBase:
    """The configured API URL (e.g. ``https://api.outreach.io/api/v2``) and what lies under it."""

    def __init__(self, api_url: str) -> None:
        parts = urlsplit(api_url.rstrip("/"))
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"API URL must be http(s)://host[:port][/path]: {api_url!r}")
        self.url = api_url.rstrip("/")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or _DEFAULT_PORTS[parts.scheme]
        self.prefix = parts.path

    def check(self, url: str) -> str:
        """``url`` itself when it may be asked; else :class:`UnsafeUrl`, naming why."""
        problem = self._problem(url)
        if problem is not None:
            raise UnsafeUrl(
                shown(url), f"refused, {problem} (only {self.url}/... is asked)", status=None
            )
        return url

    def relative(self, url: str) -> str:
        """``url``'s path below the base (``/prospects`` for ``<base>/prospects?...``)."""
        path = urlsplit(url).path
        return path[len(self.prefix) :] if path.startswith(self.prefix) else path

    def allows(self, url: str) -> bool:
        return self._problem(url) is None

    def join(self, page_url: str, link: str) -> str:
        """A page's link made absolute against the page's URL; a link no parser can read
        is kept as it is, for :meth:`check` to refuse when it is followed."""
        try:
            return urljoin(page_url, link)
        except ValueError:
            return link

    def _problem(self, url: str) -> str | None:
        if len(url) > MAX_URL_CHARS:
            return f"URL longer than {MAX_URL_CHARS} characters"
        if not url.isascii():
            return "URL has non-ASCII characters"
        if _UNSAFE_CHARS.search(url):
            return "URL has whitespace, control characters or a backslash"
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            return f"malformed URL ({error})"
        if parts.scheme.lower() != self.scheme:
            return f"scheme {parts.scheme or 'missing'!r} is not {self.scheme!r}"
        if "@" in parts.netloc:
            return "URL carries userinfo ('@' before the host)"
        if (parts.hostname or "") != self.host.lower() or (
            port or _DEFAULT_PORTS[self.scheme]
        ) != self.port:
            return f"host {parts.netloc!r} is not the API's"
        path = parts.path
        if _DOT_SEGMENT.search(path) or _ENCODED_SEPARATOR.search(path):
            return "path has '.' or '..' segments or encoded separators"
        if not (path == self.prefix or path.startswith(self.prefix + "/")):
            return f"path is not under {self.prefix or '/'}"
        return None


def normalised(url: str) -> str:
    """``url`` in one spelling per page asked for: lower-case scheme and host, no default
    port, no fragment, path and query decoded, query parameters sorted. A URL no parser
    reads is its own spelling (:meth:`ApiBase.check` refuses it)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    encoded = "&".join(f"{key}={value}" for key, value in query)
    return urlunsplit((parts.scheme.lower(), host, unquote(parts.path), encoded, ""))
