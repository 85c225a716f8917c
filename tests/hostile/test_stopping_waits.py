"""Issue 16, section 2: Ctrl-C (SIGINT) and SIGTERM end every wait of a sync within seconds,
not only the fetching: waiting for another sync's writer lock (``--wait``), for the rate
budget to renew, out a server's ``Retry-After``, out a token endpoint's ``Retry-After``, and
for an answer that never comes. Each case is a real ``outreach-pipeline sync`` process
against a :class:`HostileServer`, signalled while it waits; where the run had begun, every
stream's ``sync_runs`` row says interrupted."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.oauth_support import environment, stored_grant, sync_runs, token_answer
from tests.hostile.server import HostileServer, Reply, Seen, page
from tests.reliability.cli_runs import start_cli
from tests.sync.processes import ROOT

STREAMS = ["accounts", "prospects"]
# From the signal to the process's exit.
STOP_WITHIN = 5.0


def _budget_spent(seen: Seen) -> Reply:
    """Every answer: nothing left of the hourly budget until an hour from now."""
    return Reply(
        body=page([]),
        headers={
            "X-RateLimit-Limit": "10000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
        },
    )


def _unavailable(seen: Seen) -> Reply:
    return Reply(503, b"", headers={"Retry-After": "3000"})


def _token_endpoint_busy(seen: Seen) -> Reply:
    if seen.path.startswith("/oauth/token"):
        return Reply(429, b"Retry later", headers={"Retry-After": "100"})
    return Reply(body=page([]))


def _never_answers(seen: Seen) -> Reply:
    if seen.path.startswith("/oauth/token"):
        return token_answer()
    return Reply(hang=120)


# What the server answers, and the request after which the sync is waiting.
CASES: dict[str, tuple[Callable[[Seen], Reply], str]] = {
    "rate budget spent for an hour": (_budget_spent, "/api/v2"),
    "503 with Retry-After 3000": (_unavailable, "/api/v2"),
    "token endpoint 429 with Retry-After 100": (_token_endpoint_busy, "/oauth/token"),
    "an answer that never comes": (_never_answers, "/api/v2"),
}


def _signal_and_wait(sync: subprocess.Popen[str], sig: signal.Signals) -> tuple[str, float]:
    """``sync``'s stderr after ``sig``, and the seconds it took to exit."""
    signalled = time.monotonic()
    sync.send_signal(sig)
    _, err = sync.communicate(timeout=120)
    return err, time.monotonic() - signalled


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_signal_ends_a_wait_in_seconds(tmp_path: Path, case: str, sig: signal.Signals) -> None:
    answer, waiting_after = CASES[case]
    with HostileServer(answer) as api:
        env = environment(api.url, tmp_path)
        stored_grant(env, expired=waiting_after == "/oauth/token")
        sync = start_cli(["sync", "--streams", ",".join(STREAMS)], env, tmp_path)
        try:
            deadline = time.monotonic() + 30
            while not api.requests_to(waiting_after):
                assert time.monotonic() < deadline and sync.poll() is None, sync.stderr
                time.sleep(0.05)
            time.sleep(1.0)  # into the wait
            assert sync.poll() is None
            err, took = _signal_and_wait(sync, sig)
        finally:
            sync.kill()

    assert sync.returncode == 128 + sig, err
    assert took < STOP_WITHIN, f"exited {took:.1f} s after {sig.name}: {err}"
    assert "Traceback" not in err, err
    assert f"interrupted by {sig.name}" in err, err
    rows = sync_runs(env)
    assert sorted(stream for stream, _, _ in rows) == STREAMS
    for stream, error, _ in rows:
        assert error is not None and error.startswith(f"stream {stream}: interrupted"), error
    print(f"stopping {case} {sig.name}: exit {took:.1f} s after the signal")


HOLDER = """
import sys, time
from pathlib import Path
from outreach_pipeline.landing import sync_writer_lock
with sync_writer_lock(Path(sys.argv[1]), 0):
    print("holding", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_wait_for_another_sync(tmp_path: Path, sig: signal.Signals) -> None:
    """``sync --wait 600`` while another process writes the database: the signal ends the
    wait at once, not after ``--wait``; nothing was synced, nothing created."""
    env = environment("http://127.0.0.1:9", tmp_path)  # never asked
    stored_grant(env, expired=False)
    db_path = Path(env["OUTREACH_DUCKDB_PATH"])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        sync = start_cli(["sync", "--wait", "600"], env, tmp_path)
        assert sync.stderr is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(sync.stderr.readline()))
        reader.start()
        reader.join(30)
        assert line and line[0].startswith("waiting for the sync running in"), line
        time.sleep(0.5)
        err, took = _signal_and_wait(sync, sig)
    finally:
        holder.kill()
        holder.wait()

    assert sync.returncode == 128 + sig, err
    assert took < STOP_WITHIN, f"exited {took:.1f} s after {sig.name}"
    assert "Traceback" not in err, err
    assert err.strip() == (
        f"{sig.name}: stopping; the pages read so far are being landed (a second signal stops "
        f"at once)\ninterrupted by {sig.name} (stopped on request while waiting for the writer "
        "lock): nothing was synced"
    )
    assert not db_path.exists()
