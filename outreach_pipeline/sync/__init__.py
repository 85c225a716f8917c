"""The sync engine: Outreach streams into the DuckDB landing, incrementally and resumably."""

from outreach_pipeline.sync.errors import StreamFailed
from outreach_pipeline.sync.memory import tune_process_memory
from outreach_pipeline.sync.options import SyncOptions
from outreach_pipeline.sync.progress import SyncProgress
from outreach_pipeline.sync.results import StreamResult
from outreach_pipeline.sync.run import run_sync
from outreach_pipeline.sync.stream_sync import sync_stream

__all__ = [
    "StreamFailed",
    "StreamResult",
    "SyncOptions",
    "SyncProgress",
    "run_sync",
    "sync_stream",
    "tune_process_memory",
]
