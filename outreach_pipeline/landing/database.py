"""Opening the DuckDB file briefly, and waiting politely when another process holds it.

DuckDB lets one process write a database file, and a read-only opener is refused while a
writer has it open (and the other way round). So the sync never keeps the file open: each
batch opens it, commits one short transaction and closes it, leaving gaps in which
``outreach-pipeline sql`` or the duckdb CLI can read. Whoever finds the file locked retries
with a growing pause for up to ``lock_timeout`` seconds.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb


class DatabaseBusy(RuntimeError):
    """Another process held the DuckDB file for longer than the lock timeout."""


def _is_lock_error(error: duckdb.Error) -> bool:
    text = str(error).lower()
    return "lock" in text or "different configuration" in text


def connect(
    path: Path,
    read_only: bool = False,
    lock_timeout: float = 120.0,
    config: Mapping[str, str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` that retries while another process holds the file."""
    deadline = time.monotonic() + lock_timeout
    pause = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=dict(config or {}))
        except (duckdb.IOException, duckdb.ConnectionException) as error:
            if not _is_lock_error(error) or time.monotonic() > deadline:
                if _is_lock_error(error):
                    raise DatabaseBusy(
                        f"{path} stayed locked by another process for {lock_timeout:.0f} s"
                    ) from error
                raise
        time.sleep(pause * random.uniform(0.5, 1.5))
        pause = min(pause * 2, 1.0)


class Database:
    """The landing's DuckDB file, written in short transactions, one at a time per process.

    Opening and closing the file cost ~20 ms each (closing checkpoints), so the file stays
    open for ``linger`` seconds after a commit in case another write follows at once, as when
    several streams finish batches together; then it is closed, letting readers in while the
    sync fetches pages. :meth:`close` releases it at once.
    """

    def __init__(
        self,
        path: Path,
        lock_timeout: float = 120.0,
        memory_limit: str = "64MB",
        linger: float = 0.2,
    ) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.linger = linger
        # DuckDB's buffer pool otherwise grows towards 80% of RAM while appending to wide
        # tables; past the limit it spills to disk, keeping the sync's memory flat.
        self._config = {"memory_limit": memory_limit}
        self._writing = threading.Lock()
        self._open: duckdb.DuckDBPyConnection | None = None
        self._commits = 0

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run the block in one transaction and commit (rolled back if the block raises)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._writing:
            con = self._open or connect(
                self.path, lock_timeout=self.lock_timeout, config=self._config
            )
            self._open = None
            try:
                con.execute("BEGIN TRANSACTION")
                yield con
                con.execute("COMMIT")
            except BaseException:
                with suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                con.close()
                raise
            self._open = con
            self._commits += 1
            closer = threading.Timer(self.linger, self._close_if_idle, args=(self._commits,))
            closer.daemon = True
            closer.start()

    def _close_if_idle(self, commits: int) -> None:
        with self._writing:
            if self._open is not None and self._commits == commits:
                self._open.close()
                self._open = None

    def close(self) -> None:
        """Release the file now (a later transaction opens it again)."""
        with self._writing:
            if self._open is not None:
                self._open.close()
                self._open = None

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection (waits while a writer holds the file)."""
        con = connect(self.path, read_only=True, lock_timeout=self.lock_timeout)
        try:
            yield con
        finally:
            con.close()
