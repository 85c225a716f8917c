"""Run ``outreach-pipeline sync`` in a child process with a fixed bearer token.

The command's own code path (``commands.sync.execute``), with the token taken from
``TEST_ACCESS_TOKEN`` instead of the OAuth grant store, so tests can kill it at any moment.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from outreach_pipeline.commands.sync import execute
from outreach_pipeline.sync import SyncOptions
from tests.sync.support import BearerAuth

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams")
    parser.add_argument("--full-refresh", action="store_true")
    parser.add_argument("--sweep-deletes", action="store_true")
    parser.add_argument("--batch-rows", type=int, default=SyncOptions().batch_rows)
    args = parser.parse_args()
    auth = BearerAuth(os.environ["TEST_ACCESS_TOKEN"])
    options = SyncOptions(batch_rows=args.batch_rows)
    sys.exit(
        execute(args.streams, args.full_refresh, args.sweep_deletes, auth=auth, options=options)
    )
