"""A token store on PostgreSQL that misbehaves: a port that accepts and says nothing, one that
answers something else, one that hangs up, and a real server whose answers stop arriving
mid-session (a stalled server or network path, played by a relay that stops relaying). Each
ends in a one-line error naming the store, within a bounded time, never the password."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from outreach_pipeline.auth import postgres_store
from outreach_pipeline.auth.errors import TokenStoreError
from outreach_pipeline.auth.grant import Grant
from outreach_pipeline.auth.postgres_store import PostgresTokenStore
from outreach_pipeline.auth.token_store import open_token_store
from outreach_pipeline.postgres_url import PostgresUrl
from outreach_pipeline.settings import Secret, settings_from

PASSWORD = "hostile-store-password-1"


@contextmanager
def listener(on_accept: Callable[[socket.socket], None]) -> Iterator[int]:
    """A loopback port whose connections are handed to ``on_accept``; yields the port."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            held.append(client)
            on_accept(client)

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()
        for client in held:
            client.close()


def say_nothing(client: socket.socket) -> None:
    pass


def answer_http(client: socket.socket) -> None:
    client.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")


def hang_up(client: socket.socket) -> None:
    client.shutdown(socket.SHUT_RDWR)


@pytest.mark.parametrize("behaviour", [say_nothing, answer_http, hang_up])
def test_a_port_that_is_not_postgres_fails_in_bounded_time(
    behaviour: Callable[[socket.socket], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres_store, "CONNECT_TIMEOUT", 2)
    with listener(behaviour) as port:
        url = f"postgresql://pipeline:{PASSWORD}@127.0.0.1:{port}/tokens"
        started = time.monotonic()
        with pytest.raises(TokenStoreError) as failed:
            open_token_store(settings_from({"OUTREACH_TOKEN_STORE": url})).load()
        took = time.monotonic() - started
    message = str(failed.value)
    assert took < 2 + 3, f"{behaviour.__name__}: {took:.1f} s"
    assert f"127.0.0.1:{port}, database 'tokens'" in message
    assert "connect_timeout 2 s" in message
    assert PASSWORD not in message and "\n" not in message


class Relay:
    """A TCP relay to ``target`` that can stop relaying (:meth:`stall`) while keeping every
    connection open, as a stalled server or network path looks from the client."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.stalled = threading.Event()
        self.sockets: list[socket.socket] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self.stalled.set()

    def close(self) -> None:
        self.server.close()
        for sock in self.sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            while self.stalled.is_set():  # hold the bytes and the connection
                time.sleep(0.05)
            try:
                sink.sendall(data)
            except OSError:
                return


@pytest.fixture
def relayed(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Relay, str]]:
    """A relay to the test cluster, the URL through it (password and all), and limits short
    enough for a test: statements 6 s on the server, then 1 s more on the client."""
    monkeypatch.setattr(postgres_store, "ANSWER_GRACE", 1.0)
    monkeypatch.setattr(postgres_store, "STATEMENT_TIMEOUT", 1.0)
    real = PostgresUrl(postgres_url)
    relay = Relay((real.host, real.port))
    yield relay, postgres_url.replace(f":{real.port}/", f":{relay.port}/")
    relay.close()


def grant() -> Grant:
    return Grant(
        access_token=Secret("access-hostile"),
        access_expires_at=2_000_000_000.0,
        refresh_token=Secret("refresh-hostile"),
        scopes=("users.read",),
        credential_kind="production",
        granted_at=1_900_000_000.0,
    )


def assert_cut_in_time(action: Callable[[], object]) -> str:
    """``action``'s :class:`TokenStoreError` text, checked to come after the server's statement
    timeout and the client's grace and not much later; a worker still waiting after 30 s
    fails the test (in a thread of its own: without the deadline it would wait forever)."""
    failures: list[BaseException | None] = []

    def run() -> None:
        try:
            action()
        except BaseException as error:  # reported below, whatever it is
            failures.append(error)
        else:
            failures.append(None)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(30)
    took = time.monotonic() - started
    assert not worker.is_alive(), "the worker still waits on the stalled store after 30 s"
    [failure] = failures
    assert isinstance(failure, TokenStoreError), repr(failure)
    # statement_timeout max(1, lock_timeout 1 + 5) = 6 s, then the 1 s grace.
    assert 7 <= took < 7 + 5, f"{took:.1f} s"
    return str(failure)


def test_a_server_that_stops_answering_is_cut_off(relayed: tuple[Relay, str]) -> None:
    """A worker holding the grant's row lock reads the grant; the answer never comes. A new
    connection would meet ``connect_timeout`` (above): this one is already open."""
    relay, url = relayed
    store = PostgresTokenStore(PostgresUrl(url), grant_name="stalled", lock_timeout=1)
    store.save(grant())  # the table exists, the relay works

    def stalled_read() -> None:
        with store.lock():
            relay.stall()
            store.load()

    message = assert_cut_in_time(stalled_read)
    assert "sent nothing for 7 s (statement_timeout 6 s and 1 s more)" in message
    assert "grant stalled" in message and "127.0.0.1" in message
    assert str(urlsplit(url).password) not in message and "\n" not in message


def test_a_lock_whose_commit_is_never_answered_is_cut_off(relayed: tuple[Relay, str]) -> None:
    """A refresh finished under the row lock; the commit that would save the rotated token
    goes unanswered. The worker gets an error in bounded time instead of waiting forever (the
    server frees the row lock by its idle-in-transaction timeout)."""
    relay, url = relayed
    store = PostgresTokenStore(PostgresUrl(url), grant_name="holder", lock_timeout=1)

    def refresh_then_commit() -> None:
        with store.lock():
            store.save(grant())
            relay.stall()

    message = assert_cut_in_time(refresh_then_commit)
    assert "sent nothing" in message and "grant holder" in message
