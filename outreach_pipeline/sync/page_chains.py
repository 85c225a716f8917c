"""Reading one stream's listing as several chains of pages at once.

Against the real API a sync waits on latency: a stream of 240 pages read as one chain takes
240 round trips one after another, however many other streams run beside it, and the
largest stream bounds the whole sync. Its window (``since..until`` on its cursor) can be
cut: each part is a listing of its own, read as a chain of its own, at the same time.

Where and when a window is cut is :mod:`.window_cuts`' part; this module runs the chains.

:class:`ChainRunner` runs one stream's chains: the stream's own thread and helper threads.
Helpers come from :class:`HelperSlots`, shared by a run's streams: each free slot goes to the
stream whose waiting chain has the most pages left, and comes back after one chain, so the
helpers follow the largest work left rather than the streams that were cut first. The state a
batch saves lists the next page of every unfinished chain.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from outreach_pipeline.sync.page_walk import PageWalk


@dataclass
class PageChain:
    """A listing read page after page: ``url`` is the next page (None once read through).

    ``until`` (the window's upper bound) is set on chains that may still be cut: their next
    page is the first of their window and asks for the count. ``pages``: the pages it is
    thought to hold (what a helper slot is given by). ``resumed``: ``url`` is a link saved by
    an earlier run, not yet followed. ``read_already``: ids its next page may hold that were
    landed before (a cut chain reads on from the newest value its page held, so those
    records come again), left out of that page."""

    url: str | None
    until: str | None = None
    pages: int = 0
    resumed: bool = False
    read_already: pa.Array | None = None
    walk: PageWalk = field(default_factory=PageWalk)

    def unread(self, content: pa.Table) -> pa.Table:
        """``content`` (its next page) less the records landed already; once."""
        read_already, self.read_already = self.read_already, None
        if read_already is None or not len(read_already):
            return content
        return content.filter(pc.invert(pc.is_in(content.column("id"), value_set=read_already)))


class HelperSlots:
    """``slots`` helper threads for a run's cut windows, each lent for one chain to the
    stream that asks with the most pages."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._lock = threading.Lock()
        self._waiting: list[tuple[int, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def ask(self, pages: int, start: Callable[[], None]) -> None:
        """``start()`` is called (in some thread) once a slot is this asker's; it must hand
        the slot back with :meth:`give_back`, at once if it has nothing left to do."""
        with self._lock:
            heapq.heappush(self._waiting, (-pages, next(self._order), start))
            granted = self._granted()
        for begin in granted:
            begin()

    def give_back(self) -> None:
        with self._lock:
            self._free += 1
            granted = self._granted()
        for begin in granted:
            begin()

    def _granted(self) -> list[Callable[[], None]]:
        granted = []
        while self._free and self._waiting:
            self._free -= 1
            granted.append(heapq.heappop(self._waiting)[2])
        return granted


class ChainRunner:
    """Walks every chain handed to it: the calling thread, and up to ``helpers`` helper
    threads at once lent by ``slots``.

    ``walk`` reads a chain until it ends or :attr:`halted` is set; it may :meth:`add` chains.
    The first error raised by a walk halts the others at their next page, and :meth:`run`
    raises it once every walk has stopped. ``lock`` guards the chains and whatever the walks
    share.
    """

    def __init__(
        self,
        chains: list[PageChain],
        walk: Callable[[PageChain], None],
        slots: HelperSlots,
        helpers: int,
        lock: threading.RLock,
    ) -> None:
        self.lock = lock
        self.halted = threading.Event()
        self._changed = threading.Condition(lock)
        self._chains = list(chains)
        self._queued = deque(chains)
        self._walk = walk
        self._slots = slots
        self._most_helpers = helpers
        self._helpers = 0
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
        """A chain to read as well: by a helper when a slot comes, else by the first walk
        to finish its own."""
        with self._changed:
            self._chains.append(chain)
            self._queued.append(chain)
            # The stream's own thread may be waiting for the helpers: it takes the chain.
            self._changed.notify_all()
        self._ask(chain.pages)

    def run(self) -> None:
        for chain in list(self._queued)[1:]:
            self._ask(chain.pages)
        while True:
            self._work()
            with self._changed:
                if self._helpers == 0 and (not self._queued or self.halted.is_set()):
                    break
                if not self._queued or self.halted.is_set():
                    self._changed.wait()
        if self._errors:
            raise self._errors[0]

    def _ask(self, pages: int) -> None:
        if self._most_helpers > 0:
            self._slots.ask(pages, self._start_helper)

    def _start_helper(self) -> None:
        """A slot is this stream's. Called by :class:`HelperSlots` in whatever thread gave a
        slot back, maybe holding another stream's lock: it only starts a thread."""
        threading.Thread(target=self._help, name="page-chain", daemon=True).start()

    def _help(self) -> None:
        """Read the next queued chain, if one is left, then give the slot back (and ask
        again for the chains still waiting)."""
        with self._changed:
            idle = self.halted.is_set() or not self._queued
            chain = None if idle or self._helpers >= self._most_helpers else self._queued.popleft()
            if chain is not None:
                self._helpers += 1
        if chain is None:
            self._slots.give_back()
            return
        try:
            self._walk_one(chain)
        finally:
            with self._changed:
                self._helpers -= 1
                waiting = self._queued[0].pages if self._queued else None
                self._changed.notify_all()
            self._slots.give_back()
            if waiting is not None:
                self._ask(waiting)

    def _work(self) -> None:
        while not self.halted.is_set():
            with self.lock:
                if not self._queued:
                    return
                chain = self._queued.popleft()
            self._walk_one(chain)

    def _walk_one(self, chain: PageChain) -> None:
        try:
            self._walk(chain)
        except BaseException as error:  # handed to the stream's thread by run()
            with self._changed:
                self._errors.append(error)
                self.halted.set()
                self._changed.notify_all()
