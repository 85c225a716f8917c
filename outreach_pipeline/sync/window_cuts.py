"""Where a stream's window is cut into chains of pages read at once (see :mod:`.page_chains`).

Where to cut is learnt from the API, not guessed: the first page of a window asks
``count=true``, so it says how many records the window holds; one with many pages still to
read is halved in time (the half above the page's newest value becomes a new chain, the one
below is read on from that value). The new chain's first page is counted in turn, so a
window whose records crowd into one part of its time is cut there again. Records updated
during the run have moved past the window's end, so the parts never hold one record twice
(an API that ignores the upper bound makes them overlap: more requests, the same rows).

Each cut may cost a partial page (the lower half restarts from the page's newest value) and
an empty upper half where records crowd into a small part of the window's time; the records
at the restart value are not landed twice (:attr:`PageChain.read_already`).
"""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pyarrow.compute as pc

from outreach_pipeline.catalog import Stream
from outreach_pipeline.client import FetchedPage, JsonApiClient, with_param
from outreach_pipeline.landing import cursor_max, format_cursor
from outreach_pipeline.sync.listings import cursor_moment, first_page_url, shifted_cursor
from outreach_pipeline.sync.options import SyncOptions
from outreach_pipeline.sync.page_chains import ChainRunner, PageChain
from outreach_pipeline.sync.page_walk import PageWalk


class WindowCutter:
    """Cuts the windows of one stream's run: a window is halved while its first page says at
    least twice ``options.chain_min_pages`` pages are left, into at most twice
    ``options.chains_per_stream`` parts. ``cursor_column``: the landed column of the
    stream's cursor (None: the stream is never cut)."""

    def __init__(
        self,
        stream: Stream,
        client: JsonApiClient,
        cursor_column: str | None,
        options: SyncOptions,
    ) -> None:
        self.stream = stream
        self.client = client
        self.cursor_column = cursor_column
        self.options = options

    def next_url(
        self, chain: PageChain, page: FetchedPage[pa.Table], runner: ChainRunner
    ) -> str | None:
        """Where ``chain`` reads on after ``page``. On the first page of a window that may be
        cut (``chain.until`` set), the count is not asked again on the pages after it
        (costlier for the API, and read only here), and the window may be cut. A link the
        client would refuse is left as sent: rewriting it would launder it."""
        link = page.next_url
        if chain.until is None:
            return link
        if link is not None and self.client.base.allows(link):
            link = with_param(link, "count", "false")
        return self._cut(chain, page, runner) or link

    def _cut(
        self, chain: PageChain, page: FetchedPage[pa.Table], runner: ChainRunner
    ) -> str | None:
        """Hand the upper half of the rest of the window to a new chain, when it is long
        enough and the stream has parts to spare; the link from which ``chain`` reads the
        lower half (None: not cut)."""
        until, chain.until = chain.until, None
        if until is None or page.next_url is None or page.count is None:
            return None
        most = self.options.chains_per_stream
        if self.cursor_column is None or most < 2 or runner.chains >= 2 * most:
            return None
        size = page.page_size or self.stream.page_size
        left = -(-(page.count - page.records) // size)
        if left < 2 * self.options.chain_min_pages:
            return None
        newest = cursor_max(page.content, self.cursor_column)
        end = cursor_moment(until)
        if newest is None or newest >= end:
            return None
        middle = format_cursor(newest + (end - newest) / 2)
        upper = shifted_cursor(middle, timedelta(milliseconds=1))
        if upper > until:
            return None
        runner.add(
            PageChain(
                self._listing(upper, until, page.page_size),
                until=until,
                pages=left // 2,
            )
        )
        chain.until = middle
        chain.walk = PageWalk()
        # Landed again, they would make the batch delete rows it just wrote (DuckDB then
        # rewrites whole row groups: +55 MB peak memory at scale 20,000).
        at_newest = pc.equal(page.content.column(self.cursor_column), pa.scalar(newest))
        chain.read_already = page.content.column("id").filter(at_newest)
        return self._listing(format_cursor(newest), middle, page.page_size)

    def _listing(self, since: str, until: str, page_size: int | None) -> str:
        return first_page_url(self.client, self.stream, since, until, page_size, count=True)
