"""The process settings a sync makes for its memory."""

from __future__ import annotations

import pyarrow as pa

from outreach_pipeline.sync.memory import tune_process_memory


def test_arrow_allocates_with_the_c_allocator_after_tuning():
    tune_process_memory()
    assert pa.default_memory_pool().backend_name == "system"
