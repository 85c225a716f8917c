"""What every HTTP exchange of a run shares, below the API client and the OAuth code alike:
a deadline that holds in every phase of a request, and the run's stop event."""

from outreach_pipeline.transport.deadline import DeadlineTransport, deadline, request_within
from outreach_pipeline.transport.stop_context import (
    Interrupted,
    current_stop,
    pause,
    stopping_with,
)

__all__ = [
    "DeadlineTransport",
    "Interrupted",
    "current_stop",
    "deadline",
    "pause",
    "request_within",
    "stopping_with",
]
