"""Case 11, secrets over a whole session: the real CLI logs in (OAuth through the emulator),
syncs with 2-second access tokens (so refresh tokens rotate all along) and an encrypted token
store, queries with ``sql``, fails on a revoked grant, syncs under server-to-server auth with a
private key, and Dagster materializes the streams on an instance kept on disk. Then every
captured output, log record, exception text, the Dagster event log and storage files, both
DuckDB files and the token store are searched for the client secret, every code and token the
emulator handed out, the encryption key and the private key: zero hits. The store is mode 0600.

tests/auth/test_auth_secret_scan.py drives the auth layer's own failure paths (timeouts, wrong
keys, wrong secrets) in process; this one covers what sync, CLI and Dagster add around it.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dagster_duckdb import DuckDBResource

from outreach_emulator import Emulator
from outreach_pipeline.defs.assets import outreach_streams
from outreach_pipeline.defs.resources import OutreachResource
from outreach_pipeline.settings import DEFAULT_GRANT
from tests.auth.auth_support import emulator_env, free_port
from tests.reliability.cli_runs import start_cli
from tests.reliability.figures import report
from tests.support.dagster_instance import instance_with_default_grant

ENCRYPTION_KEY = "e2e-passphrase-never-shown-5d2a"
STREAMS = "prospects,users,accounts"


def _private_key() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


def _files(folder: Path) -> Iterator[Path]:
    return (path for path in folder.rglob("*") if path.is_file())


class Session:
    """The CLI runs of one session against ``emulator``, with everything they showed."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.shown: list[str] = []

    def run(self, *args: str, env: dict[str, str] | None = None) -> int:
        child = start_cli(args, env or self.env, self.cwd)
        out, err = child.communicate(timeout=120)
        self.shown += [out, err]
        return child.returncode

    def login(self, browser: Callable[[str], object]) -> int:
        child = start_cli(["auth", "login", "--no-browser", "--timeout", "30"], self.env, self.cwd)
        assert child.stdout is not None
        url = next(line.strip() for line in child.stdout if line.startswith("http"))
        browser(url)
        out, err = child.communicate(timeout=60)
        self.shown += [url, out, err]
        return child.returncode


def _materialize(emulator: Emulator, env: dict[str, str], instance: dg.DagsterInstance) -> str:
    outreach = OutreachResource(
        variables={
            **env,
            "OUTREACH_API_URL": emulator.api_url,
            "OUTREACH_OAUTH_URL": emulator.oauth_url,
            "OUTREACH_TOKEN_ENCRYPTION_KEY": ENCRYPTION_KEY,
        }
    )
    duckdb = DuckDBResource(database=env["OUTREACH_DUCKDB_PATH"])
    result = dg.materialize(
        [outreach_streams],
        resources={"outreach": outreach, "duckdb": duckdb},
        instance=instance,
        selection=[f"outreach/{s}" for s in STREAMS.split(",")],
        partition_key=DEFAULT_GRANT,
    )
    assert result.success
    records = [
        record
        for stream in STREAMS.split(",")
        for record in instance.fetch_materializations(
            dg.AssetKey(["outreach", stream]), limit=100
        ).records
    ]
    assert records, "no materialization recorded: nothing to scan"
    logs = instance.all_logs(result.run_id)
    return "\n".join([*map(repr, logs), *map(repr, records)])


def test_no_secret_anywhere_after_a_whole_session(
    make_emulator: Callable[..., Emulator],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    private_pem, public_pem = _private_key()
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    emulator = make_emulator(
        redirect_uris=(redirect_uri,),
        access_token_ttl=2,
        # Outreach allows one mint a minute for tokens living two hours; here they live 2 s.
        token_mint_interval=1,
        rate_limit=10**9,
        s2s_guid="e2e-guid",
        s2s_install_id="e2e-install",
        s2s_public_key_pem=public_pem,
    )
    # Pages of 15 prospects, slowly: syncs outlast the 2-second tokens.
    emulator.faults.set(latency=0.2, page_size_limits={"prospects": 20})
    data = tmp_path / "data"
    env = {
        **emulator_env(emulator, data / "grant.json", redirect_uri),
        "OUTREACH_DUCKDB_PATH": str(data / "landing.duckdb"),
        "OUTREACH_TOKEN_ENCRYPTION_KEY": ENCRYPTION_KEY,
    }
    (tmp_path / "key.pem").write_bytes(private_pem)
    s2s_env = {
        **env,
        "OUTREACH_S2S_GUID": "e2e-guid",
        "OUTREACH_S2S_INSTALL_ID": "e2e-install",
        "OUTREACH_S2S_PRIVATE_KEY_PATH": str(tmp_path / "key.pem"),
        "OUTREACH_DUCKDB_PATH": str(data / "s2s.duckdb"),
    }

    def browser(url: str) -> None:
        """The person's browser: its own request log holds the code, the pipeline's must not."""
        with (
            caplog.at_level(logging.WARNING, "httpcore"),
            caplog.at_level(logging.WARNING, "httpx"),
        ):
            httpx.get(url, follow_redirects=True)  # the emulator consents at once

    session = Session(env, tmp_path)
    assert session.login(browser) == 0
    assert session.run("sync", "--streams", STREAMS, "--batch-rows", "50") == 0
    assert session.run("sql", "SELECT count(*) AS prospects FROM prospects") == 0
    assert session.run("auth", "status") == 0
    assert session.run("sync", "--streams", "users", env=s2s_env) == 0
    (tmp_path / "dagster").mkdir()
    with instance_with_default_grant(temp_dir=str(tmp_path / "dagster")) as instance:
        session.shown.append(_materialize(emulator, env, instance))
    emulator.grants.revoke_all()
    assert session.run("sync", "--streams", STREAMS) == 2

    store = Path(env["OUTREACH_TOKEN_STORE"])
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    tokens = emulator.grants.handed_out()
    secret = env["OUTREACH_CLIENT_SECRET"]
    secrets = {secret, quote(secret, safe=""), ENCRYPTION_KEY, *tokens}
    secrets |= {line for line in private_pem.decode().splitlines() if "-----" not in line}
    captured = capsys.readouterr()
    texts = [*session.shown, captured.out, captured.err, caplog.text]
    texts += [record.getMessage() for record in caplog.records]
    shown = "\n".join(texts)
    files = [*_files(data), *_files(tmp_path / "dagster")]
    stored = b"\n".join(path.read_bytes() for path in files)
    leaks = sum(1 for s in secrets if s in shown or s.encode() in stored)
    in_store = sum(1 for token in tokens if token.encode() in store.read_bytes())
    report(
        "secrets",
        secrets_searched=len(secrets),
        tokens_handed_out=len(tokens),
        refreshes=emulator.grants.summary()["refreshes"],
        texts=len(texts),
        files=len(files),
        bytes_searched=len(shown) + len(stored),
        leaks=leaks,
        tokens_in_store=in_store,
    )
    assert "Needs reauthorization: no" in shown and "auth login" in shown
    assert emulator.grants.summary()["refreshes"] >= 2 and len(tokens) > 10
    assert leaks == 0, "secrets found (not listed here, so a failure does not leak them)"
    assert in_store == 0
