"""What a sync tells whoever watches it, as it goes: plain Python, no terminal, no Dagster.

:func:`~outreach_pipeline.sync.run_sync` calls a :class:`SyncProgress` when a stream starts,
for each page it reads, for each retry and when the stream finishes; the command line draws
it (``commands/sync_progress.py``), the Dagster asset writes it to the run's log. The calls
come from the streams' threads, several at once.
"""

from __future__ import annotations

from outreach_pipeline.sync.results import StreamResult

# What an interrupted stream's result (and its ``sync_runs`` row) says.
INTERRUPTED = "interrupted: stopped on request; pages read before are kept, the next sync resumes"


class SyncProgress:
    """Told of a sync's progress; this base hears everything and does nothing."""

    def stream_started(self, stream: str) -> None:
        """``stream`` (its API path) starts."""

    def page_read(self, stream: str, records: int, count: int | None) -> None:
        """A page of ``records`` was read; ``count``: the listing's size when the API said."""

    def retrying(self, stream: str, problem: str, wait: float) -> None:
        """A request of ``stream`` failed with ``problem``; asked again in ``wait`` seconds."""

    def stream_finished(self, result: StreamResult) -> None:
        """The stream ended, however (``result.error``, ``result.interrupted``)."""


def stream_of(relative_path: str) -> str:
    """The stream a request was for, from its path below the API base (``/prospects``)."""
    return relative_path.strip("/").split("/", 1)[0]
