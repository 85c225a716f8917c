"""The process settings a sync makes for its memory, and who makes them: the ``sync`` command
for its own process, a Dagster run only when its config asks; never the library, whose host
(a run worker, pytest, a notebook) keeps its collector and allocators as they were."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from outreach_emulator import Emulator
from outreach_pipeline.catalog import stream
from outreach_pipeline.cli import main
from outreach_pipeline.defs.assets import SyncConfig, outreach_streams
from outreach_pipeline.defs.checks import asset_key
from outreach_pipeline.settings import DEFAULT_GRANT
from outreach_pipeline.sync.memory import YOUNG_COLLECTION_THRESHOLD, tune_process_memory
from tests.auth.auth_support import emulator_env, settings_from, store_issued_grant
from tests.defs.conftest import emulator_resources
from tests.support.dagster_instance import instance_with_default_grant

UNTUNED = (700, 10, 10)
TUNED = (YOUNG_COLLECTION_THRESHOLD, 10, 10)


@pytest.fixture
def untuned_process() -> Iterator[None]:
    """Python's default collector thresholds and Arrow's default pool for the test; whatever
    the process had before, back after it."""
    thresholds, pool = gc.get_threshold(), pa.default_memory_pool()
    gc.set_threshold(*UNTUNED)
    pa.set_memory_pool(pa.mimalloc_memory_pool())
    yield
    gc.set_threshold(*thresholds)
    pa.set_memory_pool(pool)


def tuned() -> bool:
    return gc.get_threshold() == TUNED and pa.default_memory_pool().backend_name == "system"


def test_tuning_puts_arrow_on_the_c_allocator(untuned_process: None) -> None:
    tune_process_memory()
    assert pa.default_memory_pool().backend_name == "system"


def test_the_young_generation_is_collected_rarely_and_older_ones_as_before(
    untuned_process: None,
) -> None:
    tune_process_memory()
    assert gc.get_threshold() == TUNED
    gc.set_threshold(10 * YOUNG_COLLECTION_THRESHOLD, 5, 5)
    tune_process_memory()
    assert gc.get_threshold() == (10 * YOUNG_COLLECTION_THRESHOLD, 5, 5)


def test_a_sync_leaves_its_host_process_as_it_was(
    untuned_process: None, emulator: Emulator, sync
) -> None:
    (result,) = sync(emulator, [stream("users")])
    assert result.ok, result.error
    assert gc.get_threshold() == UNTUNED
    assert pa.default_memory_pool().backend_name == "mimalloc"


def test_the_sync_command_tunes_its_own_process(
    untuned_process: None, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = emulator_env(emulator, tmp_path / "grant.json", "http://127.0.0.1/callback")
    env["OUTREACH_DUCKDB_PATH"] = str(tmp_path / "landing.duckdb")
    store_issued_grant(emulator, settings_from(env))
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["sync", "--streams", "users", "--quiet"]) == 0
    assert tuned()


@pytest.mark.parametrize("asked", [False, True])
def test_a_dagster_run_tunes_its_process_only_when_its_config_asks(
    untuned_process: None, emulator: Emulator, tmp_path: Path, asked: bool
) -> None:
    config = SyncConfig(tune_process_memory=True) if asked else SyncConfig()
    with instance_with_default_grant() as instance:
        result = dg.materialize(
            [outreach_streams],
            selection=[asset_key(stream("users"))],
            resources=emulator_resources(emulator, tmp_path, [stream("users")]),
            run_config=dg.RunConfig(ops={outreach_streams.op.name: config}),
            instance=instance,
            partition_key=DEFAULT_GRANT,
        )
    assert result.success
    assert tuned() is asked
