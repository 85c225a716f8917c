"""``dg dev -w workspace.yaml``, as the README starts it, answers and then stops cleanly: one
SIGTERM to its process group ends webserver, daemon and code server within 10 s, leaving no
process behind. Slow (it loads the code location): ``pytest -m slow``."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.defs.ui_support import ROOT, DagsterDev

STOP_WITHIN_S = 10


def processes_using(home: Path) -> list[int]:
    """Pids of processes whose environment holds ``DAGSTER_HOME=home``: what ``dg dev``
    started, whatever process group or session they moved to."""
    marker = f"DAGSTER_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def test_the_readme_command_is_the_one_started() -> None:
    assert "uv run dg dev -w workspace.yaml" in (ROOT / "README.md").read_text()


@pytest.mark.slow
def test_dg_dev_starts_and_stops_on_one_sigterm(tmp_path: Path) -> None:
    dev = DagsterDev({}, tmp_path)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert dev.process.poll() is None, dev.log.read_text()[-3000:]
            try:
                if httpx.get(dev.url + "/server_info", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError(f"no answer in 90 s:\n{dev.log.read_text()[-3000:]}")
        started = processes_using(dev.home)
        assert len(started) >= 3, started  # dg dev, the webserver and the daemon at least

        os.killpg(dev.process.pid, signal.SIGTERM)
        sent = time.monotonic()
        dev.process.wait(timeout=STOP_WITHIN_S)
        while processes_using(dev.home) and time.monotonic() - sent < STOP_WITHIN_S:
            time.sleep(0.2)
        stopped_after = time.monotonic() - sent
        left = processes_using(dev.home)
    finally:
        dev.stop()
    assert not left, f"still running {stopped_after:.1f} s after SIGTERM: {left}"
    assert stopped_after < STOP_WITHIN_S
    print(f"stopped {stopped_after:.1f} s after SIGTERM")
