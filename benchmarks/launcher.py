"""Run a command and write its peak RSS (kB) to a file: ``python launcher.py OUT CMD...``.

A child's ``ru_maxrss`` starts from the high-water mark of the process that spawned it, so
measured directly from the harness (which holds DuckDB and httpx) a small child would report the
harness's size. This launcher is small, spawns the command, and reports that child's own figure.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    out, command = argv[0], argv[1:]
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    with open(out, "w") as handle:
        handle.write(str(usage.ru_maxrss))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
