"""The writer connection keeps a wide table's landing within DuckDB's memory limit.

Appended rows stay in memory, uncompressed, until a checkpoint writes them out, and a
checkpoint pins a whole row group: at DuckDB's default row group (122,880 rows) a checkpoint
of prospects' 238 columns failed with out-of-memory under a 64 MB limit at 35,000 rows. The
writer attaches the file with smaller row groups, so the need depends on the width of a
table, not on its length. (Without them this test fails at 28,000 rows.)
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from outreach_pipeline.catalog import catalog
from outreach_pipeline.landing import Database, RecordConverter, ensure_schema, table_name, upsert
from outreach_pipeline.landing.database import ROW_GROUP_SIZE

ROWS = 40_000
BATCH = 4_000


def _wide_batch(schema: pa.Schema, first_id: int, rows: int) -> pa.Table:
    """``rows`` rows of the prospects' landing shape, about as full as the emulator's: one
    text column in four holds a short value (a JSON string, which JSON columns accept)."""
    text = pa.array([f'"{first_id + i:08d}"' for i in range(rows)])
    texts = 0
    arrays = []
    for field in schema:
        if field.name == "id":
            arrays.append(pa.array(range(first_id, first_id + rows), pa.int64()))
        elif field.type == pa.string():
            texts += 1
            arrays.append(text if texts % 4 == 0 else pa.nulls(rows, field.type))
        elif field.type == pa.int64():
            arrays.append(pa.array(range(rows), pa.int64()))
        elif field.name == "_synced_at":
            arrays.append(pa.array([datetime(2026, 1, 1)] * rows, field.type))
        else:
            arrays.append(pa.nulls(rows, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def test_a_wide_table_lands_in_small_row_groups_under_a_small_memory_limit(
    tmp_path: Path,
) -> None:
    stream = catalog()["prospects"]
    _land_wide_table(Database(tmp_path / "landing.duckdb", memory_limit="48MB", memory_growth=1))

    with duckdb.connect(str(tmp_path / "landing.duckdb"), read_only=True) as con:
        count, groups = con.execute(
            f"SELECT (SELECT count(*) FROM {table_name(stream)}), count(DISTINCT row_group_id) "
            f"FROM pragma_storage_info('{table_name(stream)}')"
        ).fetchone() or (0, 0)
    assert count == ROWS
    assert groups >= ROWS // ROW_GROUP_SIZE


def _land_wide_table(database: Database) -> None:
    stream = catalog()["prospects"]
    schema = RecordConverter(stream).schema
    with database.transaction() as con:
        ensure_schema(con, [stream])
    for first in range(0, ROWS, BATCH):
        batch = _wide_batch(schema, first, BATCH)
        database.submit(partial(upsert, stream=stream, table=batch)).result()
    database.close()


def test_a_write_that_runs_out_of_memory_is_run_again_with_more(tmp_path: Path) -> None:
    too_little = Database(tmp_path / "fixed.duckdb", memory_limit="16MB", memory_growth=1)
    with pytest.raises(duckdb.Error, match=r"(?i)memory|pin block|allocate block"):
        _land_wide_table(too_little)

    growing = Database(tmp_path / "growing.duckdb", memory_limit="16MB")
    _land_wide_table(growing)
    assert 16 < growing.memory_limit_mb <= 64
    with duckdb.connect(str(tmp_path / "growing.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM outreach.prospects").fetchone() == (ROWS,)
