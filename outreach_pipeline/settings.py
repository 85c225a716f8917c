"""Settings from environment variables (and a git-ignored ``.env``), validated in one place.

Every problem is reported as a :class:`SettingsError` naming the variable, never echoing a
secret's value. Secrets are held as :class:`Secret`, whose ``repr`` and ``str`` hide them so
they cannot leak through a log line or a traceback by accident.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from outreach_pipeline.catalog import SCHEMA as LANDING_SCHEMA
from outreach_pipeline.redaction import remember

CredentialKind = Literal["production", "development"]

DEFAULT_API_URL = "https://api.outreach.io/api/v2"
DEFAULT_OAUTH_URL = "https://api.outreach.io/oauth"
# Not "outreach.duckdb": DuckDB names the catalog after the file, and a catalog called
# "outreach" beside the "outreach" schema makes every "outreach.<table>" ambiguous.
DEFAULT_DUCKDB_PATH = "data/outreach_data.duckdb"
DEFAULT_TOKEN_STORE = "data/outreach-grant.json"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8976/callback"
DEFAULT_READ_SNAPSHOT_INTERVAL = 30.0


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


class Secret:
    """A string that never shows itself in ``repr``/``str``; call :meth:`reveal` to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Credentials:
    """One OAuth app credential pair: production, or development (expires grants weekly)."""

    kind: CredentialKind
    client_id: str
    client_secret: Secret = field(repr=False)


@dataclass(frozen=True)
class S2SSettings:
    """Server-to-server mode: the app's S2S GUID, the install id and the RSA private key."""

    guid: str
    install_id: str
    private_key_path: Path


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline is configured with, read once from ``OUTREACH_*`` variables
    (and ``.env``) by :func:`load_settings`, which names the variable of any bad value.
    Frozen: a run never changes its settings. Secrets are :class:`Secret` so that the
    repr of a settings object shows none of them."""

    api_url: str = DEFAULT_API_URL
    oauth_url: str = DEFAULT_OAUTH_URL
    redirect_uri: str = DEFAULT_REDIRECT_URI
    duckdb_path: Path = Path(DEFAULT_DUCKDB_PATH)
    # Seconds between two read snapshots a sync publishes while it writes (docs/landing.md).
    read_snapshot_interval: float = DEFAULT_READ_SNAPSHOT_INTERVAL
    token_store_path: Path = Path(DEFAULT_TOKEN_STORE)
    credentials: tuple[Credentials, ...] = ()
    token_encryption_key: Secret | None = field(default=None, repr=False)
    s2s: S2SSettings | None = None

    @property
    def app_url(self) -> str:
        """Base of the app endpoints (``/api/app/...``) used by S2S token exchange."""
        return self.api_url.rsplit("/v2", 1)[0] + "/app"

    def credentials_for(self, kind: CredentialKind | None = None) -> Credentials:
        """The credential pair of ``kind`` (the first configured one when ``kind`` is None)."""
        for creds in self.credentials:
            if kind is None or creds.kind == kind:
                return creds
        if kind == "development":
            raise SettingsError(
                "OUTREACH_DEV_CLIENT_ID", "not set; development credentials are not configured"
            )
        raise SettingsError("OUTREACH_CLIENT_ID", "not set; the OAuth app's client id is needed")


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` file; blank lines and ``#`` comments are skipped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.removeprefix("export ").partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{path}:{number}", "expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _url(env: Mapping[str, str], variable: str, default: str) -> str:
    """The URL in ``variable``, read the way every later use reads it: http or https, a
    host (an IPv6 one in brackets), a numeric port in 1..65535 if any."""
    value = env.get(variable, "").strip() or default
    problem = url_problem(value)
    if problem is not None:
        raise SettingsError(variable, f"must be an http(s)://host[:port][/path] URL ({problem})")
    return value.rstrip("/")


def url_problem(value: str) -> str | None:
    """Why ``value`` is not a usable http(s) URL; None when it is."""
    try:
        parts = urlsplit(value)
        hostname, port = parts.hostname, parts.port
    except ValueError as error:  # "Invalid IPv6 URL", a non-numeric or out-of-range port
        return f"{error}, in {shown_value(value)}"
    if parts.scheme not in ("http", "https"):
        return f"the scheme must be http or https, in {shown_value(value)}"
    if not hostname:
        return f"no host, in {shown_value(value)}"
    if port == 0:
        return f"port 0 is not a port to connect to, in {shown_value(value)}"
    if any(c.isspace() or ord(c) < 0x20 for c in value):
        return f"spaces or control characters, in {shown_value(value)}"
    return None


def shown_value(value: str, limit: int = 120) -> str:
    """A setting's value for one line of an error: escaped and cut short."""
    text = value.encode("unicode_escape").decode("ascii")
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _pair(env: Mapping[str, str], kind: CredentialKind, prefix: str) -> Credentials | None:
    client_id = env.get(f"{prefix}_CLIENT_ID", "").strip()
    secret = env.get(f"{prefix}_CLIENT_SECRET", "")
    if not client_id and not secret:
        return None
    if not client_id:
        raise SettingsError(f"{prefix}_CLIENT_ID", f"not set, but {prefix}_CLIENT_SECRET is")
    if not secret:
        raise SettingsError(f"{prefix}_CLIENT_SECRET", f"not set, but {prefix}_CLIENT_ID is")
    return Credentials(kind=kind, client_id=client_id, client_secret=Secret(secret))


def _s2s(env: Mapping[str, str]) -> S2SSettings | None:
    names = ("OUTREACH_S2S_GUID", "OUTREACH_S2S_INSTALL_ID", "OUTREACH_S2S_PRIVATE_KEY_PATH")
    values = [env.get(name, "").strip() for name in names]
    if not any(values):
        return None
    for name, value in zip(names, values, strict=True):
        if not value:
            raise SettingsError(name, "not set, but other OUTREACH_S2S_* settings are")
    key_path = Path(values[2])
    if not key_path.is_file():
        raise SettingsError(names[2], f"no such file: {key_path}")
    return S2SSettings(guid=values[0], install_id=values[1], private_key_path=key_path)


def _duckdb_path(env: Mapping[str, str]) -> Path:
    path = Path(env.get("OUTREACH_DUCKDB_PATH", "").strip() or DEFAULT_DUCKDB_PATH)
    if path.stem == LANDING_SCHEMA:
        raise SettingsError(
            "OUTREACH_DUCKDB_PATH",
            f"a file named {path.name} gives DuckDB a catalog named like the "
            f"'{LANDING_SCHEMA}' schema, which makes '{LANDING_SCHEMA}.<table>' ambiguous; "
            "choose another file name",
        )
    return path


def _read_snapshot_interval(env: Mapping[str, str]) -> float:
    text = env.get("OUTREACH_READ_SNAPSHOT_INTERVAL", "").strip()
    if not text:
        return DEFAULT_READ_SNAPSHOT_INTERVAL
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise SettingsError(
            "OUTREACH_READ_SNAPSHOT_INTERVAL", f"must be 0 or more seconds, got {text!r}"
        )
    return seconds


def load_settings(
    env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Settings from ``env`` (default: the process environment) over the ``.env`` file."""
    merged: dict[str, str] = read_dotenv(dotenv) if dotenv is not None else {}
    merged.update(os.environ if env is None else env)

    kind = merged.get("OUTREACH_CLIENT_KIND", "production").strip() or "production"
    if kind not in ("production", "development"):
        raise SettingsError(
            "OUTREACH_CLIENT_KIND", f"must be production or development, got {kind!r}"
        )
    pairs = [
        _pair(merged, kind, "OUTREACH"),  # type: ignore[arg-type]
        _pair(merged, "development", "OUTREACH_DEV"),
    ]
    key = merged.get("OUTREACH_TOKEN_ENCRYPTION_KEY", "")
    return Settings(
        api_url=_url(merged, "OUTREACH_API_URL", DEFAULT_API_URL),
        oauth_url=_url(merged, "OUTREACH_OAUTH_URL", DEFAULT_OAUTH_URL),
        redirect_uri=_url(merged, "OUTREACH_REDIRECT_URI", DEFAULT_REDIRECT_URI),
        duckdb_path=_duckdb_path(merged),
        read_snapshot_interval=_read_snapshot_interval(merged),
        token_store_path=Path(
            merged.get("OUTREACH_TOKEN_STORE", "").strip() or DEFAULT_TOKEN_STORE
        ),
        credentials=tuple(p for p in pairs if p is not None),
        token_encryption_key=Secret(key) if key else None,
        s2s=_s2s(merged),
    )
