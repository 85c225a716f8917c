"""The real ``outreach-pipeline`` console script in a child process, with exactly the
environment given, so that a table of bad inputs can start them all at once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.sync.processes import ROOT


def start_cli(
    args: Sequence[str], env: dict[str, str], cwd: Path, stdin: bool = False
) -> subprocess.Popen[str]:
    """``python -m outreach_pipeline.cli ARGS`` with exactly ``env`` (plus PATH), unbuffered."""
    return subprocess.Popen(
        [sys.executable, "-m", "outreach_pipeline.cli", *args],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **env},
        cwd=cwd,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
