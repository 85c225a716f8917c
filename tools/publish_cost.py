"""What publishing the read snapshot costs: ``read_snapshot.publish`` (checkpoint, copy, fsync,
rename) timed on a copy of a landing, opened as the writer opens it.

    uv run python -m tools.publish_cost data/outreach_data.duckdb [--runs 3]

The landing itself is left alone: the copy and its snapshot go to a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from outreach_pipeline.landing.database import ROW_GROUP_SIZE, connect
from outreach_pipeline.landing.read_snapshot import publish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("landing", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "landing.duckdb"
        shutil.copyfile(args.landing, db_path)
        con = connect(db_path, row_group_size=ROW_GROUP_SIZE)  # as the writer opens it
        seconds = []
        for _ in range(args.runs):
            started = time.perf_counter()
            publish(con, db_path)
            seconds.append(time.perf_counter() - started)
        con.close()
        size = db_path.stat().st_size / 1e6
    print(f"{size:.0f} MB landing; publish: {', '.join(f'{s:.2f}' for s in seconds)} s")


if __name__ == "__main__":
    main()
