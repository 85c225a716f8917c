"""Run one measured child process: wall seconds and its own peak RSS (``wait4`` rusage)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChildOutcome:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: Path
    stderr: Path

    def tail(self, lines: int = 20) -> str:
        """The last lines of stderr, for a failure message."""
        return "\n".join(self.stderr.read_text(errors="replace").splitlines()[-lines:])


def run_child(
    command: Sequence[str],
    *,
    workdir: Path,
    name: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 3600,
) -> ChildOutcome:
    """Run ``command`` in ``workdir`` with stdout and stderr in files named after ``name``.

    ``wait4`` gives the rusage of this child (and the descendants it waited for) alone, so
    each measured run has its own peak RSS rather than the maximum over every child so far.
    """
    stdout = workdir / f"{name}.out"
    stderr = workdir / f"{name}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=workdir, env=dict(env or os.environ), stdout=out, stderr=err
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.send_signal(signal.SIGKILL)
            time.sleep(0.005)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return ChildOutcome(
        seconds=seconds,
        peak_rss_mb=usage.ru_maxrss / 1024,
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
    )
