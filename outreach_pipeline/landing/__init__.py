"""The DuckDB landing: schema from the catalog, typed Arrow batches, upserts, state, runs."""

from outreach_pipeline.landing.database import Database, DatabaseBusy, connect
from outreach_pipeline.landing.fingerprints import Fingerprint, fingerprint_of, stale_ids
from outreach_pipeline.landing.grant_union import GrantLanding
from outreach_pipeline.landing.observed_versions import add_observed_versions
from outreach_pipeline.landing.private_files import OwnerOnlyUmask
from outreach_pipeline.landing.reading import open_for_reading, open_grants_for_reading
from outreach_pipeline.landing.records import (
    BadRecord,
    RecordConverter,
    convert_column,
    cursor_max,
    format_cursor,
    record_id,
)
from outreach_pipeline.landing.runs import record_run
from outreach_pipeline.landing.schema import SCHEMA, Column, columns, quote, table_name
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
    "Fingerprint",
    "GrantLanding",
    "OwnerOnlyUmask",
    "RecordConverter",
    "StreamState",
    "SyncInProgress",
    "WriteCounts",
    "add_observed_versions",
    "columns",
    "connect",
    "convert_column",
    "cursor_max",
    "ensure_schema",
    "fingerprint_of",
    "format_cursor",
    "load_state",
    "mark_deleted",
    "open_for_reading",
    "open_grants_for_reading",
    "quote",
    "record_id",
    "record_run",
    "replace_from_stage",
    "reset_stage",
    "save_state",
    "stage",
    "stale_ids",
    "sync_writer_lock",
    "table_name",
    "upsert",
]
