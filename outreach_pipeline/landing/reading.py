"""Opening the landing for reading: its read snapshot (see ``read_snapshot``), never the
file a sync writes, so a query starts at once whatever a sync is doing and never holds up
the sync.

The snapshot is brought up to date first when no sync is running and the landing changed
since it was published (a sync that died between two publishes, a write by another tool, a
landing from before snapshots existed); while a sync runs, its writer publishes. Where the
snapshot cannot be written (a read-only folder, a full disk) and none exists, the landing
itself is read, waiting while a writer holds it, as before snapshots.

:func:`open_grants_for_reading` reads several grants' landings at once, each the same way
(see ``grant_union``).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

import duckdb

from outreach_pipeline.landing.database import DatabaseBusy, connect, once_unlocked
from outreach_pipeline.landing.grant_union import GrantLanding, attach_sql, union_views_sql
from outreach_pipeline.landing.read_snapshot import is_current, publish_held, snapshot_path
from outreach_pipeline.landing.writer_lock import sync_running

log = logging.getLogger(__name__)
_POLL = 0.05


def open_for_reading(
    db_path: Path, lock_timeout: float = 30.0, config: Mapping[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the latest published state of the landing at ``db_path``.

    Waits (up to ``lock_timeout`` seconds) only when there is no snapshot yet and a sync that
    has not published one is running, or the landing must be read itself."""
    deadline = time.monotonic() + lock_timeout
    path = file_to_read(db_path, lock_timeout, deadline)
    return connect(path, True, max(0.0, deadline - time.monotonic()), config)


def open_grants_for_reading(
    landings: Sequence[GrantLanding],
    lock_timeout: float = 30.0,
    config: Mapping[str, str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the latest published state of every landing in ``landings``
    (each must exist), with ``grant_union``'s views over them; ``config`` is applied once they
    are attached (``enable_external_access: false`` refuses any other ATTACH).

    The views live in a small database made for this connection, then opened read-only
    with the grants' files attached to it: DuckDB attaches every file read-only to a
    read-only database, so a query that detaches a grant cannot attach it again for writing
    (it could from an in-memory one). A grant detached may be attached again with
    ``(READ_WRITE)``, though: a caller running SQL it did not write refuses ``DETACH`` (the
    ``sql`` command does). That database is deleted once open; spills go beside the first
    grant's file, as its own reader's would."""
    if not landings:
        raise ValueError("no landing to read")
    deadline = time.monotonic() + lock_timeout
    files = [
        (landing.grant, file_to_read(landing.db_path, lock_timeout, deadline))
        for landing in landings
    ]
    grants = [grant for grant, _ in files]

    def attach_all(con: duckdb.DuckDBPyConnection) -> None:
        for grant, path in files:
            left = max(0.0, deadline - time.monotonic())
            once_unlocked(partial(con.execute, attach_sql(grant, path)), path, left)

    with tempfile.TemporaryDirectory(prefix="outreach-grants-") as folder:
        views = Path(folder) / "grants.duckdb"
        with duckdb.connect(str(views)) as builder:
            attach_all(builder)
            builder.execute("BEGIN")  # one commit, not one per view
            for statement in union_views_sql(builder, grants):
                builder.execute(statement)
            builder.execute("COMMIT")
        con = duckdb.connect(
            str(views), read_only=True, config={"temp_directory": f"{files[0][1]}.tmp"}
        )
    try:
        attach_all(con)
        settings = dict(config or {})
        locked = settings.pop("lock_configuration", None)
        for name, value in [*settings.items(), ("lock_configuration", locked)]:
            if value is not None:
                con.execute(f"SET {name} = {value}")
    except BaseException:
        con.close()
        raise
    return con


def file_to_read(db_path: Path, lock_timeout: float, deadline: float) -> Path:
    """The file holding the latest published state of the landing at ``db_path``: its read
    snapshot, published first if the landing changed since and no sync runs; the landing
    itself where no snapshot can be written. Waits until ``deadline`` (monotonic; the end of
    a wait of ``lock_timeout`` seconds) for the first snapshot of a sync that has not
    published one yet, then :class:`DatabaseBusy`."""
    snapshot = snapshot_path(db_path)
    while True:
        if not is_current(db_path) and not sync_running(db_path):
            try:
                _publish_idle_landing(db_path)
            except DatabaseBusy:
                pass  # another writer holds it: read what was published
            except OSError as error:
                if not snapshot.exists():
                    log.warning("cannot publish %s (%s): reading %s", snapshot, error, db_path)
                    return db_path
                log.warning("cannot refresh %s (%s): it may be behind", snapshot, error)
        if snapshot.exists():
            return snapshot
        if time.monotonic() > deadline:
            raise DatabaseBusy(
                f"{db_path} has no read snapshot ({snapshot.name}) yet, and the process "
                f"writing it published none within {lock_timeout:.0f} s"
            )
        time.sleep(_POLL)


def _publish_idle_landing(db_path: Path) -> None:
    """Publish the landing if no process writes it (``DatabaseBusy`` at once if one does):
    held read-only meanwhile, so a writer that comes waits."""
    holder = connect(db_path, read_only=True, lock_timeout=0)
    try:
        if not is_current(db_path):  # another reader may have published meanwhile
            publish_held(db_path)
    finally:
        holder.close()
