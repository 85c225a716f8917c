"""A total deadline for an HTTP request, held in every phase: waiting for a pooled connection,
connecting (TLS included), sending, the status line and headers, and the body.

httpx's timeouts bound each socket operation, and a read timeout starts again with every byte
that arrives: a server trickling its headers one byte a second (h11 accepts 16 KB of them),
or its body one byte just before each read timeout, holds a request for hours, and one that
accepts the connection and never answers holds it for the whole read timeout. Here each
socket operation waits at most the time left until the deadline of the request running on the
calling thread, so the request fails by its deadline, as an ordinary httpx timeout
(``ConnectTimeout``, ``WriteTimeout``, ``ReadTimeout``, ``PoolTimeout``) saying so, however the
server paces its bytes.

Use :class:`DeadlineTransport` as a client's transport and make each request, and the reading
of its body (httpx reads a streamed body after the transport has returned), inside
``with deadline(seconds):``; :func:`request_within` does both for a one-off request. The
deadline is a context variable: each thread has its own, and an inner ``deadline`` (a token
refresh made while a page is being fetched) replaces the outer one until it ends.

How: the transport's httpcore connection pool uses a network backend wrapping httpcore's own
sync backend, whose streams cut each operation's timeout to the time left. Chosen over a
watchdog thread that closes the socket at the deadline: the socket is not reachable from httpx
before the headers have arrived, closing it from another thread races with the pool reusing
the connection, and it costs a thread (or a timer) per request. httpx 0.28 takes no network
backend (encode/httpx#3749 proposes one), so :class:`DeadlineTransport` replaces the pool its
``__init__`` built with one built from the same settings plus the backend: ``_pool``, the
attribute every method of ``httpx.HTTPTransport`` works through, is the one private name used.
A read also ends once the stop event of the thread's run is set (:mod:`.stop_context`): it
waits in slices of a quarter second, so Ctrl-C does not wait for a withheld answer's
deadline. Like any client given a transport, these clients use no proxy from the environment
(``HTTPS_PROXY``).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import httpcore
import httpx

from outreach_pipeline.transport.stop_context import current_stop

T = TypeVar("T")
# Seconds a read waits at a time while a run's stop event may end it.
_STOP_POLL = 0.25


@dataclass(frozen=True)
class _Deadline:
    at: float  # time.monotonic()
    seconds: float

    def bounded(
        self,
        operation: Callable[[float | None], T],
        timeout: float | None,
        expired: type[Exception],
    ) -> T:
        """``operation(timeout)`` with ``timeout`` cut to the time left; past the deadline,
        ``expired`` (an httpcore timeout) saying so."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise expired(self.message)
        if timeout is not None and timeout < left:
            return operation(timeout)
        try:
            return operation(left)
        except expired:
            raise expired(self.message) from None

    @property
    def message(self) -> str:
        return f"not done within the request's {self.seconds:g} s deadline"


_CURRENT: ContextVar[_Deadline | None] = ContextVar("http_request_deadline", default=None)


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Requests through a :class:`DeadlineTransport` inside this block, on this thread, end
    within ``seconds`` from now (None: no deadline but httpx's own timeouts)."""
    reset = _CURRENT.set(
        None if seconds is None else _Deadline(time.monotonic() + seconds, seconds)
    )
    try:
        yield
    finally:
        _CURRENT.reset(reset)


def _within_deadline(
    operation: Callable[[float | None], T], timeout: float | None, expired: type[Exception]
) -> T:
    current = _CURRENT.get()
    if current is None:
        return operation(timeout)
    return current.bounded(operation, timeout, expired)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the current deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _within_deadline(
            lambda left: self._read(max_bytes, left), timeout, httpcore.ReadTimeout
        )

    def _read(self, max_bytes: int, timeout: float | None) -> bytes:
        """A read that fails (``ReadError``) once the run is stopped. A read that timed out
        took nothing from the connection, so waiting again in another slice is safe."""
        stop = current_stop()
        if stop is None:
            return self._stream.read(max_bytes, timeout)
        end = None if timeout is None else time.monotonic() + timeout
        while not stop.is_set():
            wait = _STOP_POLL if end is None else min(_STOP_POLL, end - time.monotonic())
            if wait <= 0:
                raise httpcore.ReadTimeout("timed out")
            try:
                return self._stream.read(max_bytes, wait)
            except httpcore.ReadTimeout:
                if end is not None and time.monotonic() >= end:
                    raise
        raise httpcore.ReadError("stopped on request")

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _within_deadline(
            lambda left: self._stream.write(buffer, left), timeout, httpcore.WriteTimeout
        )

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _connected(
            lambda left: self._stream.start_tls(ssl_context, server_hostname, left), timeout
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


def _connected(
    connect: Callable[[float | None], httpcore.NetworkStream], timeout: float | None
) -> _DeadlineStream:
    """The stream ``connect(timeout)`` opens (or secures) within the deadline, kept to it."""
    return _DeadlineStream(_within_deadline(connect, timeout, httpcore.ConnectTimeout))


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, its connections opened and used within the current deadline."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return _connected(
            lambda left: self._backend.connect_tcp(host, port, left, local_address, socket_options),
            timeout,
        )

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return _connected(
            lambda left: self._backend.connect_unix_socket(path, left, socket_options), timeout
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` (TLS verified as by default) whose requests end by the
    :func:`deadline` in force on the calling thread, whatever the server does."""

    def __init__(self, limits: httpx.Limits | None = None) -> None:
        limits = limits or httpx.Limits()
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        current = _CURRENT.get()
        if current is not None:
            # Waiting for a free connection of the pool counts too.
            timeouts = dict(request.extensions.get("timeout", {}))
            pool = timeouts.get("pool")
            left = current.at - time.monotonic()
            if left <= 0:
                raise httpx.PoolTimeout(current.message, request=request)
            timeouts["pool"] = left if pool is None else min(pool, left)
            request.extensions["timeout"] = timeouts
        return super().handle_request(request)


def request_within(
    seconds: float | None,
    method: str,
    url: str,
    *,
    timeout: httpx.Timeout | float | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """One request on a client of its own, its answer read whole within ``seconds``;
    ``timeout`` (default: ``seconds``) bounds each phase as in httpx, ``kwargs`` go to
    ``httpx.Client.request``. Redirects are not followed."""
    client = httpx.Client(
        transport=DeadlineTransport(), timeout=seconds if timeout is None else timeout
    )
    with client, deadline(seconds):
        return client.request(method, url, **kwargs)
