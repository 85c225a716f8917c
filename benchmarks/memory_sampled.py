"""A full sync in this process, as the ``sync`` command runs it, with its memory sampled.

Run by :mod:`benchmarks.memory_profile` in a child whose environment points at the emulator.
Every ``--every`` seconds a thread notes the process's resident memory (anonymous and mapped
files apart), the bytes Arrow holds and the streams running; it prints one JSON object: the
sample at the peak, the sync's own figures, and a sample every ~2% of the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import threading
import time
from typing import Any

import pyarrow as pa

from outreach_pipeline.settings import load_settings
from outreach_pipeline.sync import SyncOptions, run_sync
from outreach_pipeline.sync.memory import tune_process_memory
from outreach_pipeline.sync.progress import SyncProgress
from outreach_pipeline.sync.results import StreamResult


def _status() -> dict[str, int]:
    """Resident MB (``RssAnon``, ``RssFile``) and threads, from ``/proc/self/status``."""
    wanted = {"RssAnon": "anon_mb", "RssFile": "file_mb", "Threads": "threads"}
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in wanted:
                number = int(value.split()[0])
                found[wanted[name]] = number // 1024 if name != "Threads" else number
    return found


class _Running(SyncProgress):
    def __init__(self) -> None:
        self.streams: set[str] = set()

    def stream_started(self, stream: str) -> None:
        self.streams.add(stream)

    def stream_finished(self, result: StreamResult) -> None:
        self.streams.discard(result.stream)


def options_from(pairs: list[str]) -> SyncOptions:
    """``SyncOptions`` with ``name=value`` pairs changed (ints where the field is one)."""
    defaults = SyncOptions()
    changes: dict[str, Any] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if not hasattr(defaults, name):
            fields = sorted(f.name for f in dataclasses.fields(SyncOptions))
            raise SystemExit(f"unknown option {name!r}; SyncOptions has {fields}")
        changes[name] = int(value) if isinstance(getattr(defaults, name), int) else value
    return dataclasses.replace(defaults, **changes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=float, default=0.05, help="seconds between samples")
    parser.add_argument("options", nargs="*", help="SyncOptions changes, name=value")
    args = parser.parse_args()
    options = options_from(args.options)
    tune_process_memory()
    running = _Running()
    samples: list[dict[str, Any]] = []
    started = time.perf_counter()
    done = threading.Event()

    def sample() -> None:
        """Until the sync ends, and at least once (a short sync may end within ``every``)."""
        while True:
            samples.append(
                {
                    "second": round(time.perf_counter() - started, 2),
                    **_status(),
                    "arrow_mb": pa.total_allocated_bytes() // 2**20,
                    "streams": sorted(running.streams),
                }
            )
            if done.wait(args.every):
                return

    imported = _status()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    results = run_sync(
        load_settings(dotenv=None), full_refresh=True, options=options, progress=running
    )
    done.set()
    sampler.join()
    peak = max(samples, key=lambda s: s["anon_mb"] + s["file_mb"])
    print(
        json.dumps(
            {
                "after_imports": imported,
                "peak": peak,
                "records": sum(r.records_inserted + r.records_updated for r in results),
                "requests": sum(r.requests for r in results),
                "failed": [r.stream for r in results if not r.ok],
                "samples": samples[:: max(1, len(samples) // 50)],
            }
        )
    )


if __name__ == "__main__":
    main()
