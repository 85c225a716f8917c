"""Settings: defaults, validation messages that name the variable, secrets that never show."""

from pathlib import Path

import pytest

from outreach_pipeline.postgres_url import PostgresUrl
from outreach_pipeline.redaction import redact
from outreach_pipeline.settings import FIELDS, Settings, SettingsError, load_settings, settings_from
from outreach_pipeline.settings_doc import README, configuration_table, with_table


def test_defaults_without_any_variable(tmp_path: Path) -> None:
    settings = load_settings({}, dotenv=tmp_path / ".env")
    assert settings.api_url == "https://api.outreach.io/api/v2"
    assert settings.oauth_url == "https://api.outreach.io/oauth"
    assert settings.app_url == "https://api.outreach.io/api/app"
    assert settings.duckdb_path == Path("data/outreach_data.duckdb")
    assert settings.token_store_path.parent == Path("data")
    assert settings.credentials == ()


def test_missing_credentials_name_the_variable(tmp_path: Path) -> None:
    settings = load_settings({}, dotenv=tmp_path / ".env")
    with pytest.raises(SettingsError, match="OUTREACH_CLIENT_ID"):
        settings.credentials_for()
    with pytest.raises(SettingsError, match="OUTREACH_DEV_CLIENT_ID"):
        settings.credentials_for("development")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"OUTREACH_API_URL": "api.outreach.io"}, "OUTREACH_API_URL"),
        ({"OUTREACH_OAUTH_URL": "ftp://x/oauth"}, "OUTREACH_OAUTH_URL"),
        ({"OUTREACH_REDIRECT_URI": "not a url"}, "OUTREACH_REDIRECT_URI"),
        ({"OUTREACH_CLIENT_ID": "id-only"}, "OUTREACH_CLIENT_SECRET"),
        ({"OUTREACH_CLIENT_SECRET": "s3cret-only"}, "OUTREACH_CLIENT_ID"),
        ({"OUTREACH_CLIENT_KIND": "staging"}, "OUTREACH_CLIENT_KIND"),
        ({"OUTREACH_S2S_GUID": "guid"}, "OUTREACH_S2S_INSTALL_ID"),
        ({"OUTREACH_DUCKDB_PATH": "/tmp/outreach.duckdb"}, "OUTREACH_DUCKDB_PATH"),
    ],
)
def test_malformed_settings_name_the_variable(
    tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(env, dotenv=tmp_path / ".env")
    assert raised.value.variable == variable
    assert "s3cret-only" not in str(raised.value)


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\n"
        "OUTREACH_CLIENT_ID=from-file\n"
        "export OUTREACH_CLIENT_SECRET='a+b&c=d/e%f'\n"
        "OUTREACH_DUCKDB_PATH=/tmp/x.duckdb\n"
    )
    settings = load_settings({"OUTREACH_DUCKDB_PATH": "/tmp/env.duckdb"}, dotenv=dotenv)
    creds = settings.credentials_for()
    assert creds.client_id == "from-file"
    assert creds.client_secret.reveal() == "a+b&c=d/e%f"
    assert settings.duckdb_path == Path("/tmp/env.duckdb")


def test_malformed_dotenv_line_names_file_and_line(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("OUTREACH_CLIENT_ID=x\nthis is not an assignment\n")
    with pytest.raises(SettingsError, match=r"\.env:2"):
        load_settings({}, dotenv=dotenv)


def test_secrets_do_not_show_in_repr(tmp_path: Path) -> None:
    env = {
        "OUTREACH_CLIENT_ID": "cid",
        "OUTREACH_CLIENT_SECRET": "top-secret-value",
        "OUTREACH_DEV_CLIENT_ID": "dev-cid",
        "OUTREACH_DEV_CLIENT_SECRET": "dev-secret-value",
        "OUTREACH_TOKEN_ENCRYPTION_KEY": "key-material",
    }
    settings = load_settings(env, dotenv=tmp_path / ".env")
    text = repr(settings) + str(settings) + repr(settings.credentials_for("development"))
    for secret in ("top-secret-value", "dev-secret-value", "key-material"):
        assert secret not in text
    assert settings.credentials_for("development").client_id == "dev-cid"


def test_every_setting_is_described_and_the_readme_table_is_current() -> None:
    """The README's table is generated from the model: run
    ``uv run python -m outreach_pipeline.settings_doc`` when this fails."""
    assert all(info.description for info in FIELDS.values())
    readme = README.read_text()
    assert configuration_table() in readme
    assert with_table(readme) == readme


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("OUTREACH_ALERT_SMTP_PORT", "smtp", "valid integer, unable to parse string"),
        ("OUTREACH_ALERT_SMTP_PORT", "70000", "less than or equal to 65535"),
        ("OUTREACH_ALERT_SMTP_STARTTLS", "sometimes", "valid boolean"),
        ("OUTREACH_READ_SNAPSHOT_INTERVAL", "-1", "greater than or equal to 0"),
        ("OUTREACH_SCHEDULE_TIMEZONE", "Mars/Olympus", "unknown time zone"),
    ],
)
def test_a_malformed_value_is_one_line_naming_the_variable(
    variable: str, value: str, problem: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({variable: value}, dotenv=None)
    message = str(raised.value)
    assert message.startswith(f"{variable}: ") and problem in message
    assert "\n" not in message and repr(value) in message


def test_a_malformed_secret_is_named_but_never_shown() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"OUTREACH_CLIENT_SECRET": "s3cret-only"}, dotenv=None)
    assert raised.value.variable == "OUTREACH_CLIENT_ID"
    assert "s3cret-only" not in str(raised.value)


def test_blank_values_are_unset_and_secrets_are_redacted() -> None:
    settings = load_settings(
        {
            "OUTREACH_API_URL": "  ",
            "OUTREACH_CLIENT_ID": " cid ",
            "OUTREACH_CLIENT_SECRET": " spaced-secret-value ",
            "OUTREACH_ALERT_SMTP_PASSWORD": "smtp-password-value",
        },
        dotenv=None,
    )
    assert settings.api_url == "https://api.outreach.io/api/v2"
    assert settings.credentials_for().client_id == "cid"
    assert settings.credentials_for().client_secret.reveal() == " spaced-secret-value "
    assert redact("got smtp-password-value") == "got ***"


def test_grant_files_keep_default_names_and_nest_named_grants() -> None:
    base = Settings(duckdb_path=Path("d/outreach_data.duckdb"), token_store_path=Path("d/g.json"))
    assert base.grant == "default"
    assert base.grant_duckdb_path == Path("d/outreach_data.duckdb")
    assert base.grant_token_store_path == Path("d/g.json")
    acme = base.for_grant("acme-eu")
    assert acme.grant_duckdb_path == Path("d/grants/acme-eu/outreach_data.duckdb")
    assert acme.grant_token_store_path == Path("d/grants/acme-eu/g.json")
    assert acme.for_grant("default").grant_duckdb_path == base.grant_duckdb_path


@pytest.mark.parametrize("name", ["", "Acme", "../x", "a/b", "-lead", "a" * 64, "é"])
def test_bad_grant_names_are_refused_naming_the_variable(name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings().for_grant(name)
    assert "OUTREACH_GRANT" in str(caught.value)
    with pytest.raises(SettingsError, match="OUTREACH_GRANT"):
        settings_from({"OUTREACH_GRANT": name or "Bad"})


def test_a_postgres_token_store_url_hides_its_password_and_serves_every_grant() -> None:
    url = "postgresql://pipeline:s3cret%2Fpass-word@db.internal:6432/tokens?sslmode=require"
    settings = settings_from({"OUTREACH_TOKEN_STORE": url})
    store = settings.token_store_path
    assert isinstance(store, PostgresUrl) and store.reveal() == url
    assert (store.host, store.port, store.database, store.user) == (
        "db.internal",
        6432,
        "tokens",
        "pipeline",
    )
    assert settings.for_grant("acme").grant_token_store_path == store  # one table, every grant
    shown = f"{settings!r} {store} {settings.grant_token_store_path}"
    assert "s3cret" not in shown and "pipeline:***@db.internal:6432/tokens" in shown
    assert "s3cret" not in redact(f"connecting with s3cret/pass-word and {url}")
    assert isinstance(settings_from({"OUTREACH_TOKEN_STORE": "data/g.json"}).token_store_path, Path)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("postgresql://u:pw-secret-1@db/", "no database name"),
        ("postgres://u:pw-secret-1@:5432/tokens", "no host"),
        ("postgresql://u:pw-secret-1@db:99999/tokens", "out of range"),
        ("postgresql://u:pw-secret-1@[::1/tokens", "Invalid IPv6 URL"),
        ("mysql://u:pw-secret-1@db/tokens", "a file path or a postgresql:// URL"),
    ],
)
def test_a_bad_token_store_url_names_the_variable_not_the_password(
    value: str, problem: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_from({"OUTREACH_TOKEN_STORE": value})
    message = str(caught.value)
    assert message.startswith("OUTREACH_TOKEN_STORE: ") and problem in message
    assert "pw-secret-1" not in message and "\n" not in message
