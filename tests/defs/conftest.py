"""Fixtures for the Dagster definitions: resources pointed at an in-process emulator, with a
grant in the token store as ``outreach-pipeline auth login`` would leave it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from outreach_emulator import Emulator
from outreach_pipeline.catalog import Stream, catalog, scopes_for
from tests.auth.auth_support import store_issued_grant
from tests.defs.grants_support import outreach_for
from tests.defs.ui_support import DagsterDev, pipeline_env
from tests.support.dagster_instance import instance_with_default_grant
from tests.sync.processes import EmulatorProcess


def emulator_resources(
    emu: Emulator, tmp_path: Path, streams: list[Stream] | None = None
) -> dict[str, Any]:
    """Resources for ``emu``, the stored grant holding the scopes of ``streams`` (default all)."""
    outreach = outreach_for(emu, tmp_path)
    scopes = scopes_for(streams if streams is not None else list(catalog().values()))
    store_issued_grant(emu, outreach.settings(), scopes=scopes)
    # Not named outreach.duckdb: DuckDB would then see catalog and schema both called outreach.
    duckdb = DuckDBResource(database=str(tmp_path / "landing.duckdb"))
    return {"outreach": outreach, "duckdb": duckdb}


@pytest.fixture
def resources(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    return emulator_resources(emulator, tmp_path)


@pytest.fixture
def db_path(resources: dict[str, Any]) -> Path:
    return Path(resources["duckdb"].database)


@pytest.fixture
def dagster_dev(tmp_path: Path) -> Iterator[tuple[DagsterDev, EmulatorProcess]]:
    """``dg dev`` and an emulator process (seed 7, 200 prospects), a grant stored."""
    emulator = EmulatorProcess("--port", "0", "--seed", "7", "--scale", "200")
    dev = None
    try:
        dev = DagsterDev(pipeline_env(emulator, tmp_path), tmp_path)
        dev.wait_ready()
        yield dev, emulator
    finally:
        if dev is not None:
            dev.stop()
        emulator.stop()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A test instance holding the default grant's partition, as the partitions sensor adds
    it for a single-grant deployment."""
    with instance_with_default_grant() as instance:
        yield instance
