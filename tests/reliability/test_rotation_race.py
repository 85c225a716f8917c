"""Case 5, rotation race: eight processes share one grant with single-use refresh tokens and
5-second access tokens for ten minutes, and no refresh token is ever spent twice.

The 20-second and one-minute versions live in tests/auth/test_auth_concurrent_refresh.py; this
soak reuses their harness (which asserts zero ``invalid_grant``, zero failed requests, and prints
the ``concurrent refresh:`` figures) over the issue's full ten minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from outreach_emulator import Emulator
from tests.auth.test_auth_concurrent_refresh import run_concurrent_refresh


@pytest.mark.soak
def test_eight_processes_share_one_grant_for_ten_minutes(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    run_concurrent_refresh(make_emulator, tmp_path, seconds=600)
