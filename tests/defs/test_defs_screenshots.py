"""On demand (``pytest -m slow``): screenshots of the asset graph and an asset page, taken by
headless Chromium from ``dg dev`` after a full materialization, saved into ``docs/``."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.defs.ui_support import ROOT, DagsterDev
from tests.sync.processes import EmulatorProcess

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PAGES = {
    "dagster-asset-graph.png": "/asset-groups",
    "dagster-asset-prospects.png": "/assets/outreach/prospects",
}


def screenshot(url: str, out: Path) -> None:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                "--window-size=1400,900", "--virtual-time-budget=20000",
                f"--screenshot={out}", url,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_screenshots_of_the_asset_graph_and_an_asset_page(
    dagster_dev: tuple[DagsterDev, EmulatorProcess],
) -> None:
    dev, _ = dagster_dev
    assert dev.materialize_all() == "SUCCESS", dev.log.read_text()[-5000:]

    for name, page in PAGES.items():
        out = ROOT / "docs" / name
        screenshot(dev.url + page, out)
        assert out.stat().st_size > 10_000, f"{name} looks empty"
