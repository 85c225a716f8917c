"""Fidelity proof: Airbyte's own Outreach connector reads the emulator unchanged but for URLs.

The connector is installed from PyPI into its own Python 3.10 environment (cached under
``~/.cache/outreach-pipeline``; about 5 s with uv). Its configuration differs from a real
deployment only in the two URLs in its manifest and the app credentials. It runs against the
emulator's lenient refresh mode because it refreshes once per stream with the refresh token from
its config and never saves the rotated one (against single-use rotation its second stream fails),
and without the limit of one token minted a minute per user, which those refreshes exceed.
Where the connector cannot be installed the test is skipped, except in CI (``CI=true``, set by
.ci/run), where it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from filelock import FileLock

from benchmarks.peers import airbyte
from benchmarks.peers.venvs import CACHE_ROOT, PeerUnavailable
from outreach_emulator import Emulator, EmulatorConfig
from outreach_pipeline.catalog import catalog

pytestmark = pytest.mark.fidelity

STREAMS = ["prospects", "accounts", "users", "mailings", "sequenceStates", "callPurposes"]


@pytest.fixture(scope="module")
def airbyte_venv() -> Path:
    # Each pytest-xdist worker running a test of this module installs (so may another pytest
    # run): one at a time, or a second `uv venv --clear` empties the environment the first is
    # installing into.
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(CACHE_ROOT / "airbyte-install.lock"):
            return airbyte.install()
    except PeerUnavailable as why:
        message = f"Airbyte's connector cannot be installed here: {why}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # CI must prove fidelity, not quietly skip it
        pytest.skip(message)


def read_with_airbyte(
    venv: Path, workdir: Path, emulator: Emulator, streams: list[str]
) -> airbyte.AirbyteRead:
    """Grant the connector the streams' scopes and run its ``read`` against ``emulator``."""
    config = emulator.config
    grant = emulator.grants.issue([catalog()[s].scope for s in streams])
    return airbyte.read(
        venv,
        workdir,
        api_url=emulator.api_url,
        oauth_url=emulator.oauth_url,
        client_id=config.client_id,
        client_secret=config.client_secret,
        refresh_token=grant["refresh_token"],
        redirect_uri=config.redirect_uris[0],
        streams=[catalog()[s].table for s in streams],
    )


def test_airbyte_connector_reads_exactly_what_the_emulator_holds(
    airbyte_venv: Path, tmp_path: Path
) -> None:
    emulator = Emulator(
        EmulatorConfig(seed=7, scale=300, refresh_mode="lenient", token_mint_interval=0)
    )
    with emulator.serve(port=0):
        outcome = read_with_airbyte(airbyte_venv, tmp_path, emulator, STREAMS)
        expected = {s: sorted(r["id"] for r in emulator.data.records(s)) for s in STREAMS}

    assert outcome.returncode == 0, outcome.errors
    assert not outcome.errors
    for path in STREAMS:
        got = outcome.records[catalog()[path].table]
        assert expected[path], f"emulator holds no {path}"
        assert len(got) == len(expected[path]), path
        assert sorted(got) == expected[path], path


def test_airbyte_connector_fails_its_second_stream_under_single_use_rotation(
    airbyte_venv: Path, tmp_path: Path
) -> None:
    """The connector spends its configured refresh token once per stream and never stores the
    rotated one, so with single-use refresh tokens its second stream gets 400 on /oauth/token."""
    emulator = Emulator(
        EmulatorConfig(seed=7, scale=50, refresh_mode="single_use", token_mint_interval=0)
    )
    with emulator.serve(port=0):
        outcome = read_with_airbyte(airbyte_venv, tmp_path, emulator, ["prospects", "accounts"])
    assert outcome.returncode != 0
    assert len(outcome.records["prospects"]) == 50
    assert not outcome.records["accounts"]
    assert any("400 Client Error" in error and "/oauth/token" in error for error in outcome.errors)
