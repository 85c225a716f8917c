"""The token store on PostgreSQL: every grant a row of one table, keyed by grant name, so any
number of workers on any hosts refresh safely.

``lock()`` opens a transaction and locks the grant's row (``SELECT ... FOR UPDATE``, after
inserting an empty row if there is none, so there is always a row to lock). A ``save`` made
while the lock is held goes into that same transaction: the rotated refresh token is written
by the holder of the lock that let it spend the old one, and committed when the lock is
released, even when the body raised (a grant marked for reauthorization, or a rotated token
kept after an unusable answer, must not be rolled back). ``save`` outside a lock is its own
transaction. A row's document is the file store's JSON (:mod:`.store_document`), encrypted at
rest when ``OUTREACH_TOKEN_ENCRYPTION_KEY`` is set; a forgotten grant keeps its row, emptied.

Waits are bounded: connecting (``connect_timeout``), waiting for another worker's lock
(``lock_timeout``), any statement (``statement_timeout``), and a holder gone quiet inside its
transaction (``idle_in_transaction_session_timeout``, which frees the lock of a stuck worker).
Each ends in a one-line :class:`TokenStoreError` that names the limit, the host and the
database, never the password. Those limits are the server's to enforce; a server (or a proxy, or
a network path) that stops answering altogether would leave the worker waiting on its socket
forever, holding up its run, so every round trip also has a deadline of its own
(:class:`AnswerDeadline`): the statement timeout and a grace, after which the connection is cut.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import psycopg
from psycopg import errors as pg_errors

from outreach_pipeline.auth.encryption import StoreCipher
from outreach_pipeline.auth.errors import TokenStoreError
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.store_document import GrantDocument
from outreach_pipeline.postgres_url import PostgresUrl
from outreach_pipeline.redaction import redact
from outreach_pipeline.settings import DEFAULT_GRANT

TABLE = "outreach_grants"
CONNECT_TIMEOUT = 10
# Longer than a refresh may take under the lock (token requests retry for up to 120 s).
LOCK_TIMEOUT = 300.0
STATEMENT_TIMEOUT = 30.0
# A holder silent this long inside its transaction is cut off and its lock freed.
IDLE_IN_TRANSACTION_TIMEOUT = 600.0
# How long past the statement timeout a silent server is waited for before the client cuts the
# connection (the server should have answered with the timeout's error by then).
ANSWER_GRACE = 15.0

CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    grant_name text PRIMARY KEY,
    document text,
    updated_at timestamptz NOT NULL DEFAULT now()
)"""


class PostgresTokenStore:
    """The grant ``grant_name`` in the table ``outreach_grants`` of the database at ``url``."""

    def __init__(
        self,
        url: PostgresUrl,
        grant_name: str = DEFAULT_GRANT,
        cipher: StoreCipher | None = None,
        lock_timeout: float = LOCK_TIMEOUT,
    ) -> None:
        self.url = url
        self.grant_name = grant_name
        self.lock_timeout = lock_timeout
        self._where = f"{url} (grant {grant_name})"
        self._document = GrantDocument(self._where, cipher, grant_name)
        self._thread_lock = threading.Lock()
        self._held = threading.local()  # .connection: the lock's, in the thread holding it
        self._table_ready = False

    def __repr__(self) -> str:
        return (
            f"PostgresTokenStore({self.url.shown!r}, grant={self.grant_name!r}, "
            f"encrypted={self._document.cipher is not None})"
        )

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Held by one thread of one process at a time: a thread lock, then the row lock of a
        transaction that commits when released."""
        with self._thread_lock, self._connection() as connection:
            with self._errors_named(connection):
                connection.execute(
                    f"INSERT INTO {TABLE} (grant_name) VALUES (%s) ON CONFLICT DO NOTHING",
                    (self.grant_name,),
                )
                connection.commit()
                connection.execute(
                    f"SELECT 1 FROM {TABLE} WHERE grant_name = %s FOR UPDATE", (self.grant_name,)
                )
            self._held.connection = connection
            failed = True
            try:
                yield
                failed = False
            finally:
                self._held.connection = None
                # A body that failed because the connection was lost has nothing left to
                # commit, and the commit's own error would hide the body's.
                if not (failed and connection.broken):
                    with self._errors_named(connection):
                        connection.commit()

    def load(self) -> Grant | None:
        with self._in_transaction() as connection:
            row = connection.execute(
                f"SELECT document FROM {TABLE} WHERE grant_name = %s", (self.grant_name,)
            ).fetchone()
        if row is None or row[0] is None:
            return None
        return self._document.decode(str(row[0]))

    def save(self, grant: Grant) -> None:
        document = self._document.encode(grant).decode()
        with self._in_transaction() as connection:
            connection.execute(
                f"INSERT INTO {TABLE} (grant_name, document) VALUES (%s, %s) "
                "ON CONFLICT (grant_name) DO UPDATE "
                "SET document = EXCLUDED.document, updated_at = now()",
                (self.grant_name, document),
            )

    def delete(self) -> bool:
        with self._in_transaction() as connection:
            cursor = connection.execute(
                f"UPDATE {TABLE} SET document = NULL, updated_at = now() "
                "WHERE grant_name = %s AND document IS NOT NULL",
                (self.grant_name,),
            )
            return cursor.rowcount > 0

    @contextmanager
    def _in_transaction(self) -> Iterator[psycopg.Connection]:
        """The lock's connection in the thread holding it (its transaction commits with the
        lock), else a connection of its own whose transaction commits here."""
        held: psycopg.Connection | None = getattr(self._held, "connection", None)
        if held is not None:
            with self._errors_named(held):
                yield held
            return
        with self._connection() as connection, self._errors_named(connection):
            yield connection
            connection.commit()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A new connection with every wait bounded, the table made on first use; closed after."""
        connection = connect(self.url, self.lock_timeout)
        try:
            if not self._table_ready:
                with self._errors_named(connection):
                    ensure_table(connection)
                self._table_ready = True
            yield connection
        finally:
            connection.close()

    def _errors_named(self, connection: psycopg.Connection) -> AbstractContextManager[None]:
        return round_trips(connection, self._where, self.lock_timeout)


@contextmanager
def round_trips(
    connection: psycopg.Connection, where: str, lock_timeout: float = LOCK_TIMEOUT
) -> Iterator[None]:
    """The round trips made inside, each under a deadline on ``connection``, and PostgreSQL's
    errors as one line naming the store (``where``) and, for a timeout, the limit."""
    limit = statement_timeout(lock_timeout)
    deadline = AnswerDeadline(connection, limit + ANSWER_GRACE)
    try:
        with deadline:
            yield
    except pg_errors.LockNotAvailable:
        raise TokenStoreError(
            f"waited {lock_timeout:.0f} s (lock_timeout) for the token lock of {where}: "
            "another worker holds it and has not finished its refresh; try again, and look "
            "for a stuck worker"
        ) from None
    except pg_errors.QueryCanceled:
        raise TokenStoreError(
            f"the token store {where} did not answer within {limit:.0f} s (statement_timeout)"
        ) from None
    except psycopg.Error as error:
        if deadline.expired:
            raise TokenStoreError(
                f"the token store {where} sent nothing for {limit + ANSWER_GRACE:.0f} s "
                f"(statement_timeout {limit:.0f} s and {ANSWER_GRACE:.0f} s more): the "
                "connection was cut; is the server or the network path to it stalled?"
            ) from None
        raise TokenStoreError(f"the token store {where} failed: {one_line(error)}") from None


class AnswerDeadline:
    """While entered, cuts ``connection`` once ``seconds`` pass: a round trip still waiting on
    its socket then ends with the connection closed, and :attr:`expired` says why. A timer
    thread per round trip: the store makes a handful per refresh."""

    def __init__(self, connection: psycopg.Connection, seconds: float) -> None:
        self.expired = False
        self._timer = threading.Timer(seconds, self._cut, (connection,))
        self._timer.daemon = True

    def __enter__(self) -> AnswerDeadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def _cut(self, connection: psycopg.Connection) -> None:
        self.expired = True
        try:
            # A shutdown (not a close, which the blocked thread's descriptor would outlive)
            # wakes the waiting read with end-of-file.
            with socket.socket(fileno=os.dup(connection.fileno())) as cut:
                cut.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def statement_timeout(lock_timeout: float) -> float:
    """The server-side limit of one statement: longer than a wait for the lock may take."""
    return max(STATEMENT_TIMEOUT, lock_timeout + 5)


def connect(url: PostgresUrl, lock_timeout: float = LOCK_TIMEOUT) -> psycopg.Connection:
    """A connection to ``url`` with bounded waits; one-line :class:`TokenStoreError` naming
    the host and database (never the password) when it cannot be made."""
    options = " ".join(
        f"-c {name}={int(seconds * 1000)}"
        for name, seconds in (
            ("lock_timeout", lock_timeout),
            ("statement_timeout", statement_timeout(lock_timeout)),
            ("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION_TIMEOUT),
        )
    )
    try:
        return psycopg.connect(
            url.reveal(),
            connect_timeout=CONNECT_TIMEOUT,
            options=options,
            application_name="outreach-pipeline token store",
        )
    except psycopg.Error as error:
        raise TokenStoreError(
            f"cannot connect to the token store on {url.host}:{url.port}, database "
            f"{url.database!r} (connect_timeout {CONNECT_TIMEOUT} s): {one_line(error)}"
        ) from None


def ensure_table(connection: psycopg.Connection) -> None:
    """Create the grants table if missing; workers starting together serialise on an advisory
    lock (concurrent ``CREATE TABLE IF NOT EXISTS`` can fail on the catalog's unique index)."""
    connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (TABLE,))
    connection.execute(CREATE_TABLE)
    connection.commit()


def one_line(error: psycopg.Error) -> str:
    """A driver error's text on one line, with any remembered secret masked."""
    return redact("; ".join(line.strip() for line in str(error).splitlines() if line.strip()))


def stored_names(url: PostgresUrl) -> list[str]:
    """The grants stored in the database at ``url``: ``default`` first, then by name."""
    connection = connect(url)
    try:
        with round_trips(connection, str(url)):
            ensure_table(connection)
            rows = connection.execute(
                f"SELECT grant_name FROM {TABLE} WHERE document IS NOT NULL "
                f"ORDER BY grant_name <> %s, grant_name",
                (DEFAULT_GRANT,),
            ).fetchall()
    finally:
        connection.close()
    return [str(name) for (name,) in rows]
