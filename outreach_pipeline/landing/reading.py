"""Opening the landing for reading: its read snapshot (see ``read_snapshot``), never the
file a sync writes, so a query starts at once whatever a sync is doing and never holds up
the sync.

The snapshot is brought up to date first when no sync is running and the landing changed
since it was published (a sync that died between two publishes, a write by another tool, a
landing from before snapshots existed); while a sync runs, its writer publishes. Where the
snapshot cannot be written (a read-only folder, a full disk) and none exists, the landing
itself is read, waiting while a writer holds it, as before snapshots.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path

import duckdb

from outreach_pipeline.landing.database import DatabaseBusy, connect
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
                    return connect(db_path, True, max(0.0, deadline - time.monotonic()), config)
                log.warning("cannot refresh %s (%s): it may be behind", snapshot, error)
        if snapshot.exists():
            return connect(snapshot, True, max(0.0, deadline - time.monotonic()), config)
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
