"""The emulator as a separate process (own GIL), driven through its ``/_emulator/`` endpoints."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import httpx

from outreach_emulator.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from outreach_pipeline.catalog import catalog, scopes_for

REDIRECT_URI = "http://127.0.0.1:8976/callback"


@dataclass(frozen=True)
class Traffic:
    """What the emulator served between two stats snapshots."""

    requests: int  # /api and /oauth requests (admin calls are not counted)
    records: int


def changed_count(records: int, share: float) -> int:
    """How many of a stream's ``records`` :meth:`EmulatorProcess.change` touches."""
    return min(records, max(1, round(records * share)))


class EmulatorProcess:
    """``outreach-pipeline emulator`` at ``scale``; lenient refresh, no limit on minting tokens
    (Airbyte's connector needs both: it refreshes once per stream with its configured token).

    The harness warms it with one untimed read of every page (``floor.fetch_all`` in
    benchmarks/run.py), which caches exactly the pages, at exactly the page sizes, that the
    contenders then read.
    """

    client_id = DEFAULT_CLIENT_ID
    client_secret = DEFAULT_CLIENT_SECRET
    redirect_uri = REDIRECT_URI

    def __init__(
        self, *, scale: int, seed: int, rate_limit: int, rate_limit_window: int = 3600
    ) -> None:
        command = [
            sys.executable,
            "-m",
            "outreach_pipeline.cli",
            "emulator",
            "--port=0",
            f"--seed={seed}",
            f"--scale={scale}",
            f"--rate-limit={rate_limit}",
            f"--rate-limit-window={rate_limit_window}",
            "--auto-consent",
            "--refresh-mode=lenient",
            "--token-mint-interval=0",
            f"--redirect-uri={REDIRECT_URI}",
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on " not in line:
            self.process.kill()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.base_url = line.split("listening on ", 1)[1].split()[0]
        self.api_url = self.base_url + "/api/v2"
        self.oauth_url = self.base_url + "/oauth"
        self.admin = httpx.Client(base_url=self.base_url + "/_emulator", timeout=120)

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.admin.close()
        self.process.terminate()
        self.process.wait(timeout=30)

    def grant(self, user_id: int = 1) -> dict[str, Any]:
        """A token response for a grant of ``user_id`` (whose request budget it spends) with
        every stream's scope."""
        scopes = scopes_for(list(catalog().values()))
        response = self.admin.post("/grants", json={"scopes": scopes, "user_id": user_id})
        response.raise_for_status()
        return dict(response.json())

    def stats(self) -> dict[str, Any]:
        return dict(self.admin.get("/stats").json())

    def traffic_since(self, before: dict[str, Any]) -> Traffic:
        after = self.stats()

        def served(stats: dict[str, Any]) -> int:
            routes = stats["requests"]
            return int(routes.get("api", 0)) + int(routes.get("oauth", 0))

        return Traffic(
            requests=served(after) - served(before),
            records=int(after["records_served"]) - int(before["records_served"]),
        )

    def record_counts(self) -> dict[str, int]:
        """Records per stream path."""
        return {path: int(n) for path, n in self.stats()["records"].items()}

    def record_count(self) -> int:
        return sum(self.record_counts().values())

    def set_latency(self, seconds: float) -> None:
        self.set_faults({"latency": seconds})

    def set_faults(self, faults: dict[str, Any]) -> None:
        self.admin.post("/faults", json=faults).raise_for_status()

    def change(self, share: float, seed: int) -> int:
        """Touch ``share`` of every stream's records (their ``updatedAt`` moves to now)."""
        rng = random.Random(seed)
        self.admin.post("/clock", json={"advance": 60}).raise_for_status()
        changed = 0
        for stream in catalog().values():
            ids = self.admin.get(f"/records/{stream.path}", params={"ids_only": "true"}).json()
            for record_id in rng.sample(ids["ids"], changed_count(len(ids["ids"]), share)):
                self.admin.patch(
                    f"/records/{stream.path}/{record_id}", json={"attributes": {}}
                ).raise_for_status()
                changed += 1
        # A sync reads up to the API's time less a second: let the changes fall before it.
        self.admin.post("/clock", json={"advance": 2}).raise_for_status()
        return changed
