"""The real ``outreach-pipeline`` console script in child processes, started together so that a
table of bad inputs costs one interpreter start-up, not one each; and a read-only folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

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


@contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """``folder`` as a read-only bind mount of itself: unwritable even for root."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount a read-only folder: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
