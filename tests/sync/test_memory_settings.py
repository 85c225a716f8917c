"""The process settings a sync makes for its memory."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pyarrow as pa
import pytest

from outreach_pipeline.sync.memory import YOUNG_COLLECTION_THRESHOLD, tune_process_memory


@pytest.fixture
def collector_thresholds() -> Iterator[tuple[int, ...]]:
    saved = gc.get_threshold()
    yield saved
    gc.set_threshold(*saved)


def test_arrow_allocates_with_the_c_allocator_after_tuning():
    tune_process_memory()
    assert pa.default_memory_pool().backend_name == "system"


def test_the_young_generation_is_collected_rarely_and_older_ones_as_before(
    collector_thresholds: tuple[int, ...],
) -> None:
    gc.set_threshold(700, 10, 10)
    tune_process_memory()
    assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, 10, 10)
    gc.set_threshold(10 * YOUNG_COLLECTION_THRESHOLD, 5, 5)
    tune_process_memory()
    assert gc.get_threshold() == (10 * YOUNG_COLLECTION_THRESHOLD, 5, 5)
