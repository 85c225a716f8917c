"""Arrow tables made visible to SQL for the length of a block, under a name of their own."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import duckdb
import pyarrow as pa

_names = itertools.count()


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, table: pa.Table) -> Iterator[str]:
    """The name under which ``table`` can be queried in the block (unique, since several
    streams' writes share one connection in turn)."""
    name = f"_arrow_{next(_names)}"
    con.register(name, table)
    try:
        yield name
    except BaseException:
        # An aborted transaction refuses even this; the error that aborted it is the news.
        with suppress(duckdb.Error):
            con.unregister(name)
        raise
    con.unregister(name)
