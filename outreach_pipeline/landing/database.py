"""Opening the DuckDB file briefly, writing it from one thread, publishing a read snapshot
of it, and waiting politely when another process holds it.

DuckDB lets one process write a database file, and a read-only opener is refused while a
writer has it open (and the other way round). Readers therefore open the read snapshot the
writer publishes between transactions (see ``read_snapshot``), every ``publish_interval``
seconds while it writes and when it closes. The writer commits short transactions and
closes the file once no write has come for ``linger`` seconds; whoever finds the file
locked retries with a growing pause (capped at 0.1 s) for up to ``lock_timeout`` seconds.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

import duckdb

from outreach_pipeline.landing import read_snapshot
from outreach_pipeline.landing.private_files import OwnerOnlyUmask, make_folder, narrow_to_owner
from outreach_pipeline.retry import Retries, locked_file
from outreach_pipeline.settings import DEFAULT_READ_SNAPSHOT_INTERVAL

log = logging.getLogger(__name__)
T = TypeVar("T")
Job = Callable[[duckdb.DuckDBPyConnection], T]
Jobs = queue.SimpleQueue[tuple[Job[object], Future[object]] | None]


class DatabaseBusy(RuntimeError):
    """Another process held the DuckDB file for longer than the lock timeout."""


def _is_lock_error(error: duckdb.Error) -> bool:
    text = str(error).lower()
    return "lock" in text or "different configuration" in text


def _is_out_of_memory(error: duckdb.Error) -> bool:
    """DuckDB's buffer pool was full (it reports this from a commit or a checkpoint too)."""
    if isinstance(error, duckdb.OutOfMemoryException):
        return True
    text = str(error).lower()
    return "failed to pin block" in text or "could not allocate block" in text


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmg]i?b)\s*", re.IGNORECASE)
_UNITS = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def _megabytes(size: str) -> int:
    """``"64MB"`` -> 64 (DuckDB's units; ``"1GiB"`` -> 1073)."""
    match = _SIZE.fullmatch(size)
    if match is None:
        raise ValueError(f"memory limit {size!r} is not like '64MB' or '1GiB'")
    return max(1, int(float(match.group(1)) * _UNITS[match.group(2).lower()] / 10**6))


# Rows per row group of the tables the landing writes. DuckDB's default (122,880) makes a
# checkpoint of a wide table hold a whole row group of every column in memory: prospects'
# 238 columns broke a 64 MB limit near 35,000 rows. At 16,384 the need stays flat whatever
# the table's size (measured up to 200,000 full-width rows).
ROW_GROUP_SIZE = 16_384
CHECKPOINT_THRESHOLD = "64MB"


def _open(
    path: Path, read_only: bool, config: Mapping[str, str], row_group_size: int | None
) -> duckdb.DuckDBPyConnection:
    if row_group_size is None:
        return duckdb.connect(str(path), read_only=read_only, config=dict(config))
    # The row group size is an option of ATTACH, not of connect: attach the file to an
    # in-memory instance and make it the default catalog, so names resolve as usual. Such
    # an instance would spill to ./.tmp: spill beside the file, as a file database does.
    con = duckdb.connect(":memory:", config={"temp_directory": f"{path}.tmp", **config})
    try:
        mode = ", READ_ONLY" if read_only else ""
        con.execute(
            f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS landing "
            f"(ROW_GROUP_SIZE {int(row_group_size)}{mode})"
        )
        con.execute("USE landing")
    except BaseException:
        con.close()
        raise
    return con


def connect(
    path: Path,
    read_only: bool = False,
    lock_timeout: float = 120.0,
    config: Mapping[str, str] | None = None,
    row_group_size: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` that retries while another process holds the file, pausing as
    :func:`~outreach_pipeline.retry.locked_file` says for up to ``lock_timeout`` seconds."""
    return once_unlocked(
        lambda: _open(path, read_only, config or {}, row_group_size), path, lock_timeout
    )


def once_unlocked(open_file: Callable[[], T], path: Path, lock_timeout: float) -> T:
    """``open_file()`` (which opens or attaches the DuckDB file ``path``), tried again while
    another process holds the file, for up to ``lock_timeout`` seconds; then
    :class:`DatabaseBusy`."""

    def locked(error: BaseException) -> bool:
        if isinstance(error, duckdb.IOException | duckdb.ConnectionException):
            return _is_lock_error(error)
        return False

    retries = Retries(locked_file(lock_timeout), retry_on=locked)
    try:
        return retries(open_file)
    except (duckdb.IOException, duckdb.ConnectionException) as error:
        if locked(error):
            raise DatabaseBusy(
                f"{path} stayed locked by another process for {lock_timeout:.0f} s"
            ) from error
        raise


class Database:
    """The landing's DuckDB file, written in short transactions, one at a time per process.

    Two ways to write: :meth:`transaction` runs a block in the caller's thread; :meth:`submit`
    hands a job to the writer thread and returns at once, so a stream goes on fetching while
    its batch lands. Both share one connection, kept open while writes follow each other
    (opening and closing cost ~20 ms each: closing checkpoints) and closed by the writer
    thread once ``linger`` seconds pass without one. :meth:`close` drains the jobs,
    publishes what is not yet in the read snapshot and releases the file.

    Publishing (checkpoint, copy, rename: 0.2-0.3 s for 277 MB) happens between transactions
    on whichever thread just committed, at most every ``publish_interval`` seconds, and after
    the first commit if the snapshot is missing or behind. A publish that fails (disk full)
    keeps the previous snapshot and is warned about once until one succeeds; writing goes on.
    """

    def __init__(
        self,
        path: Path,
        lock_timeout: float = 120.0,
        memory_limit: str = "64MB",
        linger: float = 0.2,
        memory_growth: int = 4,
        publish_interval: float = DEFAULT_READ_SNAPSHOT_INTERVAL,
    ) -> None:
        self.path = Path(path)
        self.publish_interval = publish_interval
        self._published_at: float | None = None  # by this object (monotonic)
        self._unpublished = False  # commits not in the read snapshot yet
        self._publish_failed = False
        # DuckDB's buffer pool otherwise grows towards 80% of RAM while appending to wide
        # tables; past the limit it spills to disk, keeping the sync's memory flat. A job
        # that runs DuckDB out of memory is run again with twice the limit, up to
        # ``memory_growth`` times the first, on the next connection. What a write needs
        # grows with the width of a row group in bytes: 64 MB lands a full sync of 1M
        # records, but an incremental upsert into 240,000 mailings (HTML bodies) needed more.
        self.memory_limit_mb = _megabytes(memory_limit)
        self.max_memory_limit_mb = self.memory_limit_mb * memory_growth
        self.lock_timeout = lock_timeout
        self.linger = linger
        # One thread, any row order, 64 MB checkpoints: why, measured, in docs/benchmarks.md.
        self._config = {
            "threads": "1",
            "preserve_insertion_order": "false",
            "checkpoint_threshold": CHECKPOINT_THRESHOLD,
        }
        self._connection_lock = threading.Lock()
        self._open: duckdb.DuckDBPyConnection | None = None
        self._last_write = 0.0
        self._writer: tuple[threading.Thread, Jobs] | None = None
        self._writer_lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run the block in one transaction and commit (rolled back if the block raises)."""
        self._start_writer()  # it closes the file once idle
        with self._transaction() as con:
            yield con

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._connection_lock:
            if self._open is None:
                self._open = self._connect()
                if self._published_at is None:
                    # A snapshot missing or behind at the first open (a landing from before
                    # snapshots, a writer that died between two publishes) is published
                    # after the first commit, so that a new landing's first one has tables.
                    behind = not read_snapshot.is_current(self.path)
                    self._published_at = time.monotonic() - (self.publish_interval if behind else 0)
            con = self._open
            try:
                con.execute("BEGIN TRANSACTION")
                yield con
                con.execute("COMMIT")
            except BaseException:
                # A failed statement can leave DuckDB's transaction unusable: start afresh.
                with suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                self._release()
                raise
            finally:
                self._last_write = time.monotonic()
            self._unpublished = True
            self._publish_if_due()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Open the file owner-only (see ``private_files``): files from before are narrowed,
        and the umask holds while it is open (:meth:`_release` lets go)."""
        make_folder(self.path.parent)
        narrow_to_owner(self.path)
        OwnerOnlyUmask.hold()
        try:
            return connect(
                self.path,
                lock_timeout=self.lock_timeout,
                config={**self._config, "memory_limit": f"{self.memory_limit_mb}MB"},
                row_group_size=ROW_GROUP_SIZE,
            )
        except BaseException:
            OwnerOnlyUmask.release()
            raise

    def submit(self, job: Job[T]) -> Future[T]:
        """Run ``job(connection)`` in a transaction on the writer thread, in submission order;
        the future holds its result, or the error that rolled it back."""
        future: Future[T] = Future()
        self._start_writer().put((job, future))  # type: ignore[arg-type]
        return future

    def close(self) -> None:
        """Finish the submitted jobs, stop the writer thread and release the file now (a
        later transaction opens it again)."""
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            thread, jobs = writer
            jobs.put(None)
            thread.join()
        with self._connection_lock:
            if self._unpublished:
                self._publish_on_close()
            self._release()

    def _start_writer(self) -> Jobs:
        """The running writer thread's queue (each thread has its own, so a writer started
        after :meth:`close` cannot take the stop meant for the one before)."""
        with self._writer_lock:
            if self._writer is None:
                jobs: Jobs = queue.SimpleQueue()
                thread = threading.Thread(
                    target=self._write_jobs,
                    args=(jobs,),
                    name=f"duckdb-writer:{self.path.name}",
                    daemon=True,
                )
                thread.start()
                self._writer = (thread, jobs)
            return self._writer[1]

    def _write_jobs(self, jobs: Jobs) -> None:
        while True:
            try:
                item = jobs.get(timeout=self.linger)
            except queue.Empty:
                self._close_if_idle()
                continue
            if item is None:
                return
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                outcome = self._run(job)
            except BaseException as error:  # handed to whoever waits on the future
                future.set_exception(error)
            else:
                future.set_result(outcome)

    def _run(self, job: Job[T]) -> T:
        """``job`` in a transaction, again with more memory while DuckDB runs out of it (the
        failed transaction was rolled back, so running it again is safe)."""
        while True:
            try:
                with self._transaction() as con:
                    return job(con)
            except duckdb.Error as error:
                if not _is_out_of_memory(error) or not self._grow_memory():
                    raise
                # Designed, not a fault: the write is whole again with more memory (only the
                # ceiling is an error), so it is told at INFO, shown by `sync --verbose`.
                log.info(
                    "%s: DuckDB ran out of memory; writing again with %s MB",
                    self.path,
                    self.memory_limit_mb,
                )

    def _grow_memory(self) -> bool:
        """Double the memory limit of the next connection; False at the ceiling."""
        if self.memory_limit_mb >= self.max_memory_limit_mb:
            return False
        self.memory_limit_mb = min(self.memory_limit_mb * 2, self.max_memory_limit_mb)
        return True

    def _close_if_idle(self) -> None:
        with self._connection_lock:
            if self._open is not None and time.monotonic() - self._last_write >= self.linger:
                self._publish_if_due()
                self._release()

    def _publish_on_close(self) -> None:
        if self._open is None:  # closed while idle
            try:
                self._open = self._connect()
            except (DatabaseBusy, duckdb.Error, OSError) as error:
                log.warning("could not publish the read snapshot of %s: %s", self.path, error)
                return
        self._publish()

    def _publish_if_due(self) -> None:
        assert self._published_at is not None
        if self._unpublished and time.monotonic() - self._published_at >= self.publish_interval:
            self._publish()

    def _publish(self) -> None:
        """Publish through the open connection (the caller holds the connection lock and no
        transaction is under way); a failure keeps the previous snapshot."""
        assert self._open is not None
        self._published_at = time.monotonic()
        try:
            read_snapshot.publish(self._open, self.path)
        except (OSError, duckdb.Error) as error:
            if isinstance(error, duckdb.Error):
                self._release()  # a failed checkpoint can leave the connection unusable
            if not self._publish_failed:
                log.warning(
                    "could not publish the read snapshot of %s (%s): readers see the last "
                    "one published; the sync goes on",
                    self.path,
                    error,
                )
            self._publish_failed = True
            return
        self._unpublished = False
        self._publish_failed = False

    def _release(self) -> None:
        """Close the connection (the caller holds the connection lock). Closing checkpoints,
        which a full disk refuses: what was committed is in the write-ahead log and the next
        open replays it, so that is a warning, not a reason to stop the writer thread."""
        con, self._open = self._open, None
        if con is None:
            return
        try:
            con.close()
        except (duckdb.Error, OSError) as error:
            log.warning("closing %s: %s (committed work stays in its WAL)", self.path, error)
        finally:
            OwnerOnlyUmask.release()
