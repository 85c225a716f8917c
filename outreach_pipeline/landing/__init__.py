"""The DuckDB landing: schema from the catalog, typed Arrow batches, upserts, state, runs."""

from outreach_pipeline.landing.database import Database, DatabaseBusy, connect
from outreach_pipeline.landing.records import (
    BadRecord,
    RecordConverter,
    convert_column,
    cursor_max,
    format_cursor,
    record_id,
)
from outreach_pipeline.landing.runs import record_run
from outreach_pipeline.landing.schema import SCHEMA, Column, columns, table_name
from outreach_pipeline.landing.setup import ensure_schema
from outreach_pipeline.landing.state import StreamState, load_state, save_state
from outreach_pipeline.landing.writer_lock import SyncInProgress, sync_writer_lock
from outreach_pipeline.landing.writes import (
    WriteCounts,
    mark_deleted,
    replace_from_stage,
    reset_stage,
    stage,
    upsert,
)

__all__ = [
    "SCHEMA",
    "BadRecord",
    "Column",
    "Database",
    "DatabaseBusy",
    "RecordConverter",
    "StreamState",
    "SyncInProgress",
    "WriteCounts",
    "columns",
    "connect",
    "convert_column",
    "cursor_max",
    "ensure_schema",
    "format_cursor",
    "load_state",
    "mark_deleted",
    "record_id",
    "record_run",
    "replace_from_stage",
    "reset_stage",
    "save_state",
    "stage",
    "sync_writer_lock",
    "table_name",
    "upsert",
]
