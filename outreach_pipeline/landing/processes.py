"""Whether a process named by its PID (in a lock file, a temporary file's name) still runs."""

from __future__ import annotations

import os


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
