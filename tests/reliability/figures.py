"""Figures of the reliability cases, printed so that ``pytest -s`` shows what docs/reliability.md
quotes: one ``reliability <case>: {json}`` line per case run."""

from __future__ import annotations

import json
from typing import Any


def report(case: str, **figures: Any) -> None:
    print(f"reliability {case}: {json.dumps(figures, sort_keys=True)}", flush=True)
