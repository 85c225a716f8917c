"""A reader process of the contention case: opens the landing (read-only, or read-write with
``--read-write``) every ``--pause`` seconds until a stop file appears, each time reading every
stream's row count and state in one transaction; prints one JSON line per snapshot read and
counts the opens refused."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

from tests.reliability.landing_state import snapshot


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db_path")
    parser.add_argument("--stop-file", type=Path, required=True)
    parser.add_argument("--pause", type=float, required=True)
    parser.add_argument("--read-write", action="store_true")
    args = parser.parse_args()
    refused = 0
    while not args.stop_file.exists():
        try:
            with duckdb.connect(args.db_path, read_only=not args.read_write) as con:
                print(json.dumps(snapshot(con)), flush=True)
        except duckdb.Error:
            refused += 1  # the writer holds the file, or the schema is not there yet
        time.sleep(args.pause)
    print(json.dumps({"refused": refused}), flush=True)


if __name__ == "__main__":
    main()
