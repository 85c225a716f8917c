"""What reading several grants at once costs: ``open_grants_for_reading`` (attach each grant's
read snapshot, create the union views, reopen read-only) plus one count, against opening one
grant's snapshot alone, timed as ``outreach-pipeline sql`` opens them.

    uv run python -m tools.union_cost data/outreach_data.duckdb \\
        data/grants/acme/outreach_data.duckdb [--runs 4]

The landings are only read (their snapshots are published first if behind, as any reader does).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from outreach_pipeline.landing import GrantLanding, open_for_reading, open_grants_for_reading

LANDING_ONLY = {"enable_external_access": "false", "lock_configuration": "true"}
QUERY = "SELECT count(*) FROM outreach.sync_runs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("landings", type=Path, nargs="+")
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    landings = [GrantLanding(f"g{number}", path) for number, path in enumerate(args.landings)]
    for _ in range(args.runs):
        started = time.perf_counter()
        with open_for_reading(landings[0].db_path, config=LANDING_ONLY) as con:
            con.execute(QUERY).fetchall()
        alone = time.perf_counter() - started
        started = time.perf_counter()
        with open_grants_for_reading(landings, config=LANDING_ONLY) as con:
            con.execute(QUERY).fetchall()
            views = con.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_catalog = current_database()"
            ).fetchone()
        union = time.perf_counter() - started
        print(
            f"one grant {alone:.2f} s; {len(landings)} grants ({views[0] if views else 0} "
            f"views) {union:.2f} s"
        )


if __name__ == "__main__":
    main()
