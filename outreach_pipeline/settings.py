"""Settings: one typed model of every ``OUTREACH_*`` variable, validated in one place.

:class:`Settings` is the only list of settings. The command line reads it from the environment
and a git-ignored ``.env`` (:func:`load_settings`); the Dagster resources build it from their
``variables`` (secrets held as ``EnvVar``), and the schedules read their time zone from it; the
README's configuration table is generated from it (:mod:`outreach_pipeline.settings_doc`).

Every problem is reported as a :class:`SettingsError` naming the variable, never echoing a
secret's value. Secrets are ``SecretStr`` fields, hidden from ``repr``, and every secret value
read is registered with :mod:`~outreach_pipeline.redaction`; the auth layer passes them on as
:class:`Secret`, which does both too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from outreach_pipeline.catalog import SCHEMA as LANDING_SCHEMA
from outreach_pipeline.postgres_url import PostgresUrl, is_postgres_url
from outreach_pipeline.redaction import remember

CredentialKind = Literal["production", "development"]

PREFIX = "OUTREACH_"
DEFAULT_API_URL = "https://api.outreach.io/api/v2"
DEFAULT_OAUTH_URL = "https://api.outreach.io/oauth"
# Not "outreach.duckdb": DuckDB names the catalog after the file, and a catalog called
# "outreach" beside the "outreach" schema makes every "outreach.<table>" ambiguous.
DEFAULT_DUCKDB_PATH = "data/outreach_data.duckdb"
DEFAULT_TOKEN_STORE = "data/outreach-grant.json"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8976/callback"
DEFAULT_READ_SNAPSHOT_INTERVAL = 30.0
# The grant a single-grant deployment uses: its files keep the names they always had.
DEFAULT_GRANT = "default"
GRANT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
GRANTS_FOLDER = "grants"


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


S2S_FIELDS = ("s2s_guid", "s2s_install_id", "s2s_private_key_path")


class Settings(BaseSettings):
    """Everything the pipeline is configured with: one field per ``OUTREACH_<FIELD>`` variable.

    Constructing it takes only the values given (defaults for the rest); :func:`load_settings`
    reads them from the environment and ``.env``. Frozen: a run never changes its settings.
    Secrets are ``SecretStr``, so the repr of a settings object shows none of them."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        frozen=True,
        extra="ignore",
        validate_by_name=True,
        arbitrary_types_allowed=True,  # PostgresUrl
    )

    client_id: str | None = Field(default=None, description="the OAuth app's client id")
    client_secret: SecretStr | None = Field(
        default=None, description="the OAuth app's client secret"
    )
    client_kind: CredentialKind = Field(
        default="production",
        description="whether that pair is `production` or `development` (development "
        "grants expire weekly)",
    )
    dev_client_id: str | None = Field(
        default=None,
        description="an optional development pair's client id, used for grants authorized with it",
    )
    dev_client_secret: SecretStr | None = Field(
        default=None, description="the development pair's client secret"
    )
    redirect_uri: str = Field(
        default=DEFAULT_REDIRECT_URI, description="the redirect URI registered for the app"
    )
    api_url: str = Field(default=DEFAULT_API_URL, description="REST base URL (`.../api/v2`)")
    oauth_url: str = Field(default=DEFAULT_OAUTH_URL, description="OAuth base URL (`.../oauth`)")
    duckdb_path: Path = Field(
        default=Path(DEFAULT_DUCKDB_PATH),
        description="the analytical database (not `outreach.duckdb`: DuckDB would name its "
        "catalog like the `outreach` schema)",
    )
    grant: str = Field(
        default=DEFAULT_GRANT,
        description="which stored grant a command uses (`auth login --grant NAME`): lowercase "
        "letters, digits, `-` and `_`; each grant other than `default` keeps its database "
        "and token file under `grants/<name>/` beside the default ones",
    )
    read_snapshot_interval: float = Field(
        default=DEFAULT_READ_SNAPSHOT_INTERVAL,
        ge=0,
        allow_inf_nan=False,
        description="seconds between two read snapshots a running sync publishes (see "
        "[Querying the data](#querying-the-data))",
    )
    token_store_path: Path | PostgresUrl = Field(
        default=Path(DEFAULT_TOKEN_STORE),
        validation_alias=f"{PREFIX}TOKEN_STORE",
        description="the grants: a JSON file (mode 0600, never in DuckDB), or a "
        "`postgresql://user:password@host:port/database` URL to keep every grant in one "
        "table that workers on any host share (the password is a secret)",
    )
    token_encryption_key: SecretStr | None = Field(
        default=None, description="encrypts the token store at rest"
    )
    s2s_guid: str | None = Field(
        default=None,
        description="server-to-server mode: the app's S2S GUID; set, with the install id and "
        "the private key path, to read as the app instead of a user's grant",
    )
    s2s_install_id: str | None = Field(
        default=None, description="server-to-server mode: the app install id"
    )
    s2s_private_key_path: Path | None = Field(
        default=None, description="server-to-server mode: the app's RSA private key file"
    )
    schedule_timezone: str = Field(
        default="UTC",
        description="IANA time zone of the nightly (02:00) and weekly sweep schedules",
    )
    alert_webhook_url: SecretStr | None = Field(
        default=None,
        description="grant alerts as a JSON POST with a Slack-compatible `text` (a Slack "
        "incoming-webhook URL is its own credential)",
    )
    alert_slack_token: SecretStr | None = Field(
        default=None,
        description="grant alerts to Slack: a bot token (`chat:write`), with the channel",
    )
    alert_slack_channel: str | None = Field(
        default=None, description="the Slack channel alerts go to, e.g. `#data-ops`"
    )
    alert_smtp_host: str | None = Field(
        default=None, description="grant alerts by e-mail: the SMTP server, with recipients"
    )
    alert_smtp_port: int = Field(default=587, ge=1, le=65535, description="the SMTP port")
    alert_smtp_starttls: bool = Field(
        default=True, description="whether to upgrade the SMTP connection with STARTTLS"
    )
    alert_smtp_user: str | None = Field(default=None, description="the SMTP login, if any")
    alert_smtp_password: SecretStr | None = Field(default=None, description="the SMTP password")
    alert_mail_from: str = Field(
        default="outreach-pipeline@localhost", description="the alert e-mails' sender"
    )
    alert_mail_to: str | None = Field(
        default=None, description="comma-separated recipients of alert e-mails"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the values given: where the variables come from is :func:`load_settings`'s
        choice (the process environment and ``.env``, or a mapping a caller passes)."""
        return (init_settings,)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, values: Any) -> Any:
        """A variable set to blanks counts as unset; other values lose surrounding blanks,
        except secrets, which are taken as they are."""
        if not isinstance(values, dict):
            return values
        kept = {}
        for key, value in values.items():
            if isinstance(value, str):
                if not value.strip():
                    continue
                name = _field_named(key)
                if name is None or not is_secret(FIELDS[name]):
                    value = value.strip()
            kept[key] = value
        return kept

    @field_validator("*")
    @classmethod
    def _remember_secret(cls, value: Any) -> Any:
        """Every secret read is one :func:`~outreach_pipeline.redaction.redact` masks."""
        if isinstance(value, SecretStr):
            remember(value.get_secret_value())
        return value

    @field_validator("api_url", "oauth_url", "redirect_uri")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """A URL read the way every later use reads it: http or https, a host (an IPv6 one in
        brackets), a numeric port in 1..65535 if any."""
        problem = url_problem(value)
        if problem is not None:
            raise ValueError(f"must be an http(s)://host[:port][/path] URL ({problem})")
        return value.rstrip("/")

    @field_validator("token_store_path", mode="before")
    @classmethod
    def _file_or_postgres_url(cls, value: Any) -> Any:
        """A ``postgresql://`` (or ``postgres://``) URL becomes a :class:`PostgresUrl`; any
        other ``scheme://`` is refused rather than taken for a relative file path."""
        if not isinstance(value, str):
            return value
        if is_postgres_url(value):
            return PostgresUrl(value)
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value):
            scheme = value.partition("://")[0]
            raise ValueError(f"a file path or a postgresql:// URL, not a {shown_value(scheme)} URL")
        return value

    @field_validator("grant")
    @classmethod
    def _grant_name(cls, name: str) -> str:
        problem = grant_name_problem(name)
        if problem is not None:
            raise ValueError(problem)
        return name

    @field_validator("duckdb_path")
    @classmethod
    def _not_named_like_the_schema(cls, path: Path) -> Path:
        if path.stem == LANDING_SCHEMA:
            raise ValueError(
                f"a file named {path.name} gives DuckDB a catalog named like the "
                f"'{LANDING_SCHEMA}' schema, which makes '{LANDING_SCHEMA}.<table>' ambiguous; "
                "choose another file name"
            )
        return path

    @field_validator("schedule_timezone")
    @classmethod
    def _known_time_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @model_validator(mode="after")
    def _complete_groups(self) -> Settings:
        """Settings that only work together: each credential pair, the three S2S settings."""
        for id_field, secret_field in (
            ("client_id", "client_secret"),
            ("dev_client_id", "dev_client_secret"),
        ):
            given = {name: getattr(self, name) is not None for name in (id_field, secret_field)}
            if any(given.values()) and not all(given.values()):
                missing, present = sorted(given, key=given.__getitem__)
                raise SettingsError(variable(missing), f"not set, but {variable(present)} is")
        s2s = [getattr(self, name) for name in S2S_FIELDS]
        if any(value is not None for value in s2s):
            for name, value in zip(S2S_FIELDS, s2s, strict=True):
                if value is None:
                    raise SettingsError(
                        variable(name), f"not set, but other {PREFIX}S2S_* settings are"
                    )
            if not Path(s2s[2]).is_file():
                raise SettingsError(variable(S2S_FIELDS[2]), f"no such file: {s2s[2]}")
        return self

    @property
    def credentials(self) -> tuple[Credentials, ...]:
        """The configured OAuth credential pairs: the main one first, then the development one."""
        pairs: tuple[tuple[CredentialKind, str | None, SecretStr | None], ...] = (
            (self.client_kind, self.client_id, self.client_secret),
            ("development", self.dev_client_id, self.dev_client_secret),
        )
        return tuple(
            Credentials(kind, client_id, Secret(secret.get_secret_value()))
            for kind, client_id, secret in pairs
            if client_id is not None and secret is not None
        )

    @property
    def s2s(self) -> S2SSettings | None:
        """Server-to-server mode's settings; None unless configured (then complete)."""
        if self.s2s_guid is None or self.s2s_install_id is None:
            return None
        assert self.s2s_private_key_path is not None  # checked with the others
        return S2SSettings(self.s2s_guid, self.s2s_install_id, self.s2s_private_key_path)

    @property
    def app_url(self) -> str:
        """Base of the app endpoints (``/api/app/...``) used by S2S token exchange."""
        return self.api_url.rsplit("/v2", 1)[0] + "/app"

    @property
    def grant_duckdb_path(self) -> Path:
        """The analytical database of this settings' grant (``duckdb_path`` for the default)."""
        return grant_file(self.duckdb_path, self.grant)

    @property
    def grant_token_store_path(self) -> Path | PostgresUrl:
        """The token file of this settings' grant (``token_store_path`` for the default), or
        the PostgreSQL URL, whose table holds every grant (its ``str`` hides the password)."""
        if isinstance(self.token_store_path, PostgresUrl):
            return self.token_store_path
        return grant_file(self.token_store_path, self.grant)

    def for_grant(self, name: str) -> Settings:
        """These settings for the grant ``name`` (validated like ``OUTREACH_GRANT``)."""
        problem = grant_name_problem(name)
        if problem is not None:
            raise SettingsError(variable("grant"), problem)
        return self.model_copy(update={"grant": name})

    def credentials_for(self, kind: CredentialKind | None = None) -> Credentials:
        """The credential pair of ``kind`` (the first configured one when ``kind`` is None)."""
        for creds in self.credentials:
            if kind is None or creds.kind == kind:
                return creds
        if kind == "development":
            raise SettingsError(
                variable("dev_client_id"), "not set; development credentials are not configured"
            )
        raise SettingsError(variable("client_id"), "not set; the OAuth app's client id is needed")


FIELDS: Mapping[str, FieldInfo] = Settings.model_fields


def grant_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a grant (it becomes a folder, a Dagster partition key and a
    column value), or None."""
    if GRANT_NAME.fullmatch(name) is None:
        return (
            f"{shown_value(name)} is not a grant name: 1-63 lowercase letters, digits, "
            "'-' or '_', starting with a letter or digit"
        )
    return None


def grant_file(default_path: Path, grant: str) -> Path:
    """Where the grant ``grant`` keeps the file that the default grant keeps at
    ``default_path``: the same path for the default grant (single-grant deployments see no
    change), ``<folder>/grants/<grant>/<name>`` for the others."""
    if grant == DEFAULT_GRANT:
        return default_path
    return default_path.parent / GRANTS_FOLDER / grant / default_path.name


def variable(name: str) -> str:
    """The environment variable of the field ``name``: ``OUTREACH_<NAME>`` unless aliased."""
    alias = FIELDS[name].validation_alias
    return alias if isinstance(alias, str) else PREFIX + name.upper()


def is_secret(info: FieldInfo) -> bool:
    """Whether a field holds a secret (a ``SecretStr``): never shown, never trimmed."""
    return SecretStr in (info.annotation, *get_args(info.annotation))


def _field_named(key: str) -> str | None:
    """The field a value is given for, by its field name or its variable's name."""
    if key in FIELDS:
        return key
    return next((name for name in FIELDS if variable(name) == key), None)


class _Variables(EnvSettingsSource):
    """pydantic-settings' environment source (prefix, aliases, case) over a given mapping
    rather than ``os.environ``: the one method it reads the environment with, overridden."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        self._given = variables
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {
            (key if self.case_sensitive else key.lower()): value
            for key, value in self._given.items()
        }


def settings_from(variables: Mapping[str, str]) -> Settings:
    """Settings from ``OUTREACH_*`` variables (others are ignored); a bad or missing value is
    a :class:`SettingsError` naming its variable."""
    try:
        return Settings(**_Variables(variables)())
    except ValidationError as error:
        raise _named(error) from None


def _named(error: ValidationError) -> SettingsError:
    """The first problem of ``error`` as one line naming its variable, without secret values."""
    first = error.errors()[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, SettingsError):
        return cause
    key = str(first["loc"][0]) if first["loc"] else ""
    name = _field_named(key)
    shown = variable(name) if name is not None else key
    if isinstance(cause, ValueError):
        return SettingsError(shown, str(cause))
    problem = first["msg"][:1].lower() + first["msg"][1:]
    secret = name is not None and is_secret(FIELDS[name])
    if not secret and isinstance(first.get("input"), str):
        problem += f", got {shown_value(first['input'])}"
    return SettingsError(shown, problem)


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` file; blank lines and ``#`` comments are skipped.

    Stricter than python-dotenv (which pydantic-settings would use): a malformed line is an
    error naming the file and line, not a warning, and ``$`` in a secret is never expanded."""
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


def environment_variables(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings' variables set in ``env`` (default: the process environment)."""
    source = os.environ if env is None else env
    names = [variable(name) for name in FIELDS]
    return {name: source[name] for name in names if source.get(name, "").strip()}


def state_directory() -> Path:
    """Where per-user state (the SQL shell's history) is kept: ``$XDG_STATE_HOME`` (default
    ``~/.local/state``) ``/outreach-pipeline``, by the XDG base directory convention."""
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "outreach-pipeline"


def load_settings(
    env: Mapping[str, str] | None = None,
    dotenv: Path | None = Path(".env"),
    only: Collection[str] | None = None,
) -> Settings:
    """Settings from ``env`` (default: the process environment) over the ``.env`` file.

    ``only`` names the fields to read (the others keep their defaults and are not checked),
    for a caller that needs a setting before the rest can be checked (Dagster, loading)."""
    variables: dict[str, str] = read_dotenv(dotenv) if dotenv is not None else {}
    variables.update(os.environ if env is None else env)
    if only is not None:
        wanted = {variable(name) for name in only}
        variables = {key: value for key, value in variables.items() if key in wanted}
    return settings_from(variables)
