"""Run one measured child process: wall seconds and its own peak RSS (``wait4`` rusage, taken
by :mod:`benchmarks.launcher` so that the harness's own size does not leak into it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = Path(__file__).with_name("launcher.py")


@dataclass(frozen=True)
class ChildOutcome:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: Path
    stderr: Path

    def tail(self, lines: int = 20) -> str:
        """For a failure message: stderr's ``error:`` lines when it has some, else its end."""
        text = self.stderr.read_text(errors="replace").splitlines()
        errors = [line for line in text if line.startswith("error:")]
        return "\n".join(errors or text[-lines:])


def run_child(
    command: Sequence[str],
    *,
    workdir: Path,
    name: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 3600,
) -> ChildOutcome:
    """Run ``command`` in ``workdir`` with stdout and stderr in files named after ``name``."""
    stdout = workdir / f"{name}.out"
    stderr = workdir / f"{name}.err"
    rss = workdir / f"{name}.rss"
    launched = [sys.executable, str(LAUNCHER), str(rss), *command]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            launched,
            cwd=workdir,
            env=dict(env or os.environ),
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            returncode = process.wait()
        seconds = time.perf_counter() - started
    return ChildOutcome(
        seconds=seconds,
        peak_rss_mb=int(rss.read_text() or 0) / 1024 if rss.is_file() else 0.0,
        returncode=returncode,
        stdout=stdout,
        stderr=stderr,
    )
