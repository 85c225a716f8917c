"""The writer connection checkpoints at 64 MB of write-ahead log, not DuckDB's 16 MB.

A checkpoint rewrites the last, partly filled row groups of the tables written since the
one before, so checkpointing every few batches wrote heavy rows (mailings' HTML bodies)
several times over: at scale 20000 mailings landed in 14-16 s instead of 10.
"""

from __future__ import annotations

from pathlib import Path

from outreach_pipeline.landing import Database

MB = 1024 * 1024


def test_commits_accumulate_in_the_log_until_64_mb(tmp_path: Path) -> None:
    path = tmp_path / "landing.duckdb"
    database = Database(path, linger=60)  # kept open: closing would checkpoint
    with database.transaction() as con:
        con.execute("CREATE TABLE pages (body VARCHAR)")
    for _ in range(10):  # ten commits of 4 MB each
        with database.transaction() as con:
            con.execute("INSERT INTO pages SELECT repeat('x', 4096) || i FROM range(1024) t(i)")
    wal = Path(f"{path}.wal")
    try:
        assert wal.stat().st_size > 32 * MB
    finally:
        database.close()
    assert not wal.exists() or wal.stat().st_size < MB
    with database.transaction() as con:
        assert con.execute("SELECT count(*) FROM pages").fetchone() == (10 * 1024,)
