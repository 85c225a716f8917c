"""Reading one stream's listing as several chains of pages at once.

Against the real API a sync waits on latency: a stream of 240 pages read as one chain takes
240 round trips one after another, however many other streams run beside it, and the
largest stream bounds the whole sync. Its window (``since..until`` on its cursor) can be
cut: each part is a listing of its own, read as a chain of its own, at the same time.

Where to cut is learnt from the API, not guessed: the first page of a window asks
``count=true``, so it says how many records the window holds; one with many pages still to
read is halved in time (the half above the page's newest value becomes a new chain, the one
below is read on from that value). The new chain's first page is counted in turn, so a
window whose records crowd into one part of its time is cut there again. Records updated
during the run have moved past the window's end, so the parts never hold one record twice
(an API that ignores the upper bound makes them overlap: more requests, the same rows).

:class:`ChainRunner` runs the chains: the stream's own thread and, while a run-wide slot is
free, helper threads. The state a batch saves lists the next page of every unfinished chain.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from outreach_pipeline.sync.page_walk import PageWalk


@dataclass
class PageChain:
    """A listing read page after page: ``url`` is the next page (None once read through).

    ``until`` (the window's upper bound) is set on chains that may still be cut: their next
    page is the first of their window and asks for the count. ``resumed``: ``url`` is a link
    saved by an earlier run, not yet followed."""

    url: str | None
    until: str | None = None
    resumed: bool = False
    walk: PageWalk = field(default_factory=PageWalk)


class ChainRunner:
    """Walks every chain handed to it, the calling thread and up to ``helpers`` more at once.

    A helper starts only when ``slots`` (shared by a run's streams) has one free: the run's
    connections and memory stay bounded, whatever the number of streams cut. ``walk`` reads a
    chain until it ends or :attr:`halted` is set; it may :meth:`add` chains. The first error
    raised by a walk halts the others at their next page, and :meth:`run` raises it once every
    walk has stopped. ``lock`` guards the chains and whatever the walks share.
    """

    def __init__(
        self,
        chains: list[PageChain],
        walk: Callable[[PageChain], None],
        slots: threading.Semaphore,
        helpers: int,
        lock: threading.RLock,
    ) -> None:
        self.lock = lock
        self.halted = threading.Event()
        self._chains = list(chains)
        self._queued = deque(chains)
        self._walk = walk
        self._slots = slots
        self._helpers_left = helpers
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []

    @property
    def chains(self) -> int:
        """How many chains the listing was read as so far."""
        return len(self._chains)

    def pending(self) -> list[str]:
        """The next page of every chain not read through, in the order they were made.
        Called with :attr:`lock` held, it matches what the walks have handed over."""
        with self.lock:
            return [chain.url for chain in self._chains if chain.url is not None]

    def add(self, chain: PageChain) -> None:
        """A chain to read as well: by a helper if a slot is free, else by the first walk
        to finish its own."""
        with self.lock:
            self._chains.append(chain)
            self._queued.append(chain)
            self._start_helper()

    def run(self) -> None:
        with self.lock:
            for _ in range(len(self._queued) - 1):
                self._start_helper()
        self._work()
        while True:
            with self.lock:
                running = [thread for thread in self._threads if thread.is_alive()]
            if not running:
                break
            running[0].join()
        if self._errors:
            raise self._errors[0]

    def _start_helper(self) -> None:
        if self._helpers_left <= 0 or not self._slots.acquire(blocking=False):
            return
        self._helpers_left -= 1
        thread = threading.Thread(target=self._help, name="page-chain", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _help(self) -> None:
        try:
            self._work()
        finally:
            with self.lock:
                self._helpers_left += 1
            self._slots.release()

    def _work(self) -> None:
        while not self.halted.is_set():
            with self.lock:
                if not self._queued:
                    return
                chain = self._queued.popleft()
            try:
                self._walk(chain)
            except BaseException as error:  # handed to the stream's thread by run()
                with self.lock:
                    self._errors.append(error)
                self.halted.set()
                return
