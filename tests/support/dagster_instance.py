"""A Dagster test instance as a single-grant deployment has it: the partitions sensor has added
the default grant's partition, so a stream asset's run for ``partition_key="default"`` can
start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from outreach_pipeline.defs.grants import GRANTS_NAME
from outreach_pipeline.settings import DEFAULT_GRANT


@contextmanager
def instance_with_default_grant(temp_dir: str | None = None) -> Iterator[dg.DagsterInstance]:
    """``dg.instance_for_test`` (kept in ``temp_dir`` when given) holding the default grant's
    partition."""
    with dg.instance_for_test(temp_dir=temp_dir) as instance:
        instance.add_dynamic_partitions(GRANTS_NAME, [DEFAULT_GRANT])
        yield instance
