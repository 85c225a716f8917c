"""Telling a listing that ends from one that never would.

A listing ends when a page has no ``links.next``. A server that keeps sending one (the same
URL again, a link back to page 1, fresh links to empty pages) would keep a sync reading, and
growing, forever. :class:`PageWalk` watches one run's walk through a listing and names the
first sign that it does not end:

- a page asked for twice in the run (URLs compared in a normalised spelling);
- more than :data:`MAX_EMPTY_PAGES` pages in a row without records that still link on;
- more pages than ``meta.count`` (when the API reports it) allows at the smallest page size
  served, twice over plus :data:`SLACK_PAGES` (records may be added while paging).

Records seen again are not a sign: the API has been seen repeating records across pages.
"""

from __future__ import annotations

from math import ceil
from typing import Any

from outreach_pipeline.client import FetchedPage, normalised, shown

MAX_EMPTY_PAGES = 3
SLACK_PAGES = 100
# Outreach caps ``meta.count`` here: from this value on it no longer bounds the listing.
COUNT_CAP = 2_000_000


class PageWalk:
    """One run's pages of one listing; each check returns what is wrong, or None."""

    def __init__(self) -> None:
        self._asked: set[str] = set()
        self._pages = 0
        self._empty_in_a_row = 0
        self._count: int | None = None
        self._smallest_page: int | None = None

    def asking(self, url: str) -> str | None:
        """Before asking for ``url``: is it a page this run has asked for already?"""
        key = normalised(url)
        if key in self._asked:
            return f"links.next repeats a page already read in this run ({shown(url)})"
        self._asked.add(key)
        return None

    def read(self, page: FetchedPage[Any]) -> str | None:
        """After reading ``page``, when it links on: does the listing still look like one
        that ends?"""
        self._pages += 1
        if page.next_url is None:
            return None
        self._empty_in_a_row = 0 if page.records else self._empty_in_a_row + 1
        if self._empty_in_a_row > MAX_EMPTY_PAGES:
            return f"{self._empty_in_a_row} pages in a row without records still link on"
        if page.count is not None and page.count < COUNT_CAP:
            self._count = max(self._count or 0, page.count)
        size = page.page_size or max(page.records, 1)
        self._smallest_page = min(self._smallest_page or size, size)
        if self._count is not None:
            most = 2 * ceil(self._count / self._smallest_page) + SLACK_PAGES
            if self._pages > most:
                return f"{self._pages} pages read where meta.count {self._count} allows {most}"
        return None
