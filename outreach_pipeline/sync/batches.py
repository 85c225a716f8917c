"""Pages of one stream collected into bounded batches of Arrow rows, ids made distinct."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from outreach_pipeline.landing import cursor_max, format_cursor


class BatchBuffer:
    """Holds converted pages until a batch is full; tracks the largest cursor value seen."""

    def __init__(self, max_rows: int, max_bytes: int, cursor_column: str | None) -> None:
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.cursor_column = cursor_column
        self.newest: datetime | None = None
        self._pages: list[pa.Table] = []
        self._rows = 0
        self._bytes = 0

    def add(self, page: pa.Table) -> None:
        self._pages.append(page)
        self._rows += page.num_rows
        self._bytes += page.nbytes
        if self.cursor_column is not None:
            newest = cursor_max(page, self.cursor_column)
            if newest is not None and (self.newest is None or newest > self.newest):
                self.newest = newest

    def take_newest(self) -> str | None:
        """The largest cursor value added since the last call, in Outreach's form."""
        newest, self.newest = self.newest, None
        return format_cursor(newest) if newest is not None else None

    @property
    def full(self) -> bool:
        return self._rows >= self.max_rows or self._bytes >= self.max_bytes

    def take(self) -> pa.Table | None:
        """The buffered rows as one table, one row per id (the last one seen), and empty."""
        if not self._pages:
            return None
        table = pa.concat_tables(self._pages)
        self._pages, self._rows, self._bytes = [], 0, 0
        if pc.count_distinct(table.column("id")).as_py() == table.num_rows:
            return table
        positions = pa.table({"id": table.column("id"), "row": pa.array(range(table.num_rows))})
        last = positions.group_by("id").aggregate([("row", "max")]).column("row_max")
        return table.take(pc.take(last, pc.sort_indices(last)))
