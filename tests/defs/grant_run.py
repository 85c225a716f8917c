"""One grant's nightly run (the ``STREAMS`` and grant_health, multiprocess executor) on the
instance of ``$DAGSTER_HOME``, in a process of its own: ``python -m tests.defs.grant_run GRANT``
exits 0 when the run succeeded.

A process per run, as Dagster's run launcher gives every run a run worker process. Two
``dg.execute_job`` calls in threads of one process deadlock: building a run's log manager calls
``logging.config.dictConfig`` (even with no ``python_logs`` in dagster.yaml), which holds the
logging module's lock while it closes every handler of the process, the other run's event-log
handler too; that handler may be storing an event, holding its own lock and waiting for the
module's (SQLAlchemy logs as its pool connects)."""

from __future__ import annotations

import sys

import dagster as dg

from outreach_pipeline.catalog import catalog
from outreach_pipeline.defs.grant_health import GRANT_HEALTH_KEY
from outreach_pipeline.defs.keys import asset_key
from tests.defs.multiprocess_job import multiprocess_nightly

STREAMS = [catalog()[path] for path in ("users", "accounts", "prospects")]


def run(grant: str) -> bool:
    """Run the nightly job's ``STREAMS`` and grant_health for ``grant``'s partition."""
    selection = [*(asset_key(s) for s in STREAMS), GRANT_HEALTH_KEY]
    with (
        dg.DagsterInstance.get() as instance,
        dg.execute_job(
            dg.reconstructable(multiprocess_nightly),
            instance,
            tags={"dagster/partition": grant},
            asset_selection=selection,
        ) as result,
    ):
        return result.success


if __name__ == "__main__":
    sys.exit(0 if run(sys.argv[1]) else 1)
