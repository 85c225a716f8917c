"""A throwaway PostgreSQL 15 cluster on a free loopback port, removed when done.

:func:`postgres_server` is a plain context manager (for benchmark and soak scripts too); the
``postgres`` fixture runs one per test session and ``postgres_url`` gives each test a database
of its own on it. The server binaries are Debian's (``/usr/lib/postgresql/15/bin``; ``.ci/run``
installs them when missing). PostgreSQL refuses to run as root, so when we are root it runs as
the ``postgres`` system user, with its data folder handed to that user. It listens on 127.0.0.1
only (no Unix socket outside its folder) and asks for a password (scram-sha-256).

Missing binaries skip the tests that need a server, with the reason; under ``CI=true`` they
fail, so CI cannot go green without having run them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

BIN = Path(os.environ.get("OUTREACH_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "outreach_test"
SYSTEM_USER = "postgres"
START_TIMEOUT = 60


@dataclass(frozen=True)
class PostgresServer:
    """A running cluster: connect as ``user`` with ``password`` to 127.0.0.1:``port``."""

    port: int
    user: str
    password: str
    data_dir: Path
    host: str = "127.0.0.1"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database ``name``; its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def missing_binaries() -> str | None:
    """Why no cluster can be started here, or None."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (BIN / tool).is_file():
            return (
                f"PostgreSQL 15 server binaries not found ({BIN / tool}); install them with "
                "`apt-get install -y postgresql` (.ci/run does)"
            )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without `runuser` to start PostgreSQL as the postgres user"
    return None


def _as_server_user(command: list[str]) -> list[str]:
    """``command`` run as the postgres system user when we are root (the server refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SYSTEM_USER, "--", *command]
    return command


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a new cluster in a temporary folder; stop it and remove the folder on exit, even
    when starting failed half-way or the body raised."""
    problem = missing_binaries()
    if problem is not None:
        raise RuntimeError(problem)
    root = Path(tempfile.mkdtemp(prefix="outreach-pg-"))
    data_dir = root / "data"
    password = secrets.token_urlsafe(24)
    try:
        password_file = root / "password"
        password_file.write_text(password + "\n")
        if os.geteuid() == 0:
            shutil.chown(root, SYSTEM_USER)
            shutil.chown(password_file, SYSTEM_USER)
        _run(
            [
                str(BIN / "initdb"),
                "--pgdata",
                str(data_dir),
                "--username",
                SUPERUSER,
                f"--pwfile={password_file}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--no-instructions",
            ]
        )
        password_file.unlink()
        yield PostgresServer(_start(data_dir, root), SUPERUSER, password, data_dir)
    finally:
        if (data_dir / "postmaster.pid").exists():  # running, or half-started
            _run([str(BIN / "pg_ctl"), "stop", "--pgdata", str(data_dir), "-m", "immediate", "-w"])
        shutil.rmtree(root, ignore_errors=True)


def _start(data_dir: Path, root: Path, attempts: int = 3) -> int:
    """Start the server on a free port; the port. A port taken by someone else between
    choosing and binding it is retried with another."""
    log = root / "server.log"
    for _ in range(attempts):
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} "
            f"-c unix_socket_directories={root} -c fsync=off"
        )
        start = [str(BIN / "pg_ctl"), "start", "--pgdata", str(data_dir), "--log", str(log)]
        try:
            _run([*start, "--options", options, "--wait", f"--timeout={START_TIMEOUT}"])
        except RuntimeError:
            continue
        return port
    raise RuntimeError(f"PostgreSQL did not start: {log.read_text() if log.exists() else ''}")


def need_postgres() -> None:
    """Skip the calling test when no cluster can be started here; fail instead under CI."""
    problem = missing_binaries()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the PostgreSQL tests: {problem}")
    pytest.skip(problem)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One cluster for the test session (each test takes its own database: ``postgres_url``)."""
    need_postgres()
    with postgres_server() as server:
        yield server


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """The URL of a new, empty database on the session's cluster."""
    return postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")
