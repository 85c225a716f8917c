"""The stop event of the run a thread works for, for the waits ``run_sync``'s ``stop`` cannot
be handed to: a token request's retry backoff runs inside httpx's auth flow (called from a
page request, or before a run's first one), and a socket read deep inside httpcore. The
client sets it around each request (:func:`stopping_with`); a thread outside any run has
none and waits as asked."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Interrupted(Exception):
    """The run was asked to stop (Ctrl-C, SIGTERM, a Dagster termination): no more requests."""


_STOP: ContextVar[threading.Event | None] = ContextVar("run_stop", default=None)


@contextmanager
def stopping_with(stop: threading.Event) -> Iterator[None]:
    """Inside it, on this thread, :func:`pause` and socket reads end once ``stop`` is set."""
    reset = _STOP.set(stop)
    try:
        yield
    finally:
        _STOP.reset(reset)


def current_stop() -> threading.Event | None:
    return _STOP.get()


def pause(seconds: float) -> None:
    """Wait ``seconds``, or until the current run is stopped, then raise :class:`Interrupted`."""
    stop = _STOP.get()
    if stop is None:
        time.sleep(seconds)
    elif stop.wait(seconds):
        raise Interrupted("stopped on request")
