"""Plain text tables for the commands' summaries and query results."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table, numbers right-aligned."""
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows, strict=True)]

    def line(values: Sequence[str]) -> str:
        cells = [
            v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(values, widths, strict=True)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)]) + "\n"


def _numeric(value: str) -> bool:
    return value.replace(".", "", 1).replace("-", "", 1).isdigit()
