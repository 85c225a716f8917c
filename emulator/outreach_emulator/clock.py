"""The emulator's clock: real time plus an offset that tests move, or frozen at a chosen instant.

Every expiry (codes, access and refresh tokens, development grants) and the rate-limit window
read this clock, so a test can jump 14 days ahead instead of waiting.
"""

from __future__ import annotations

import threading
import time


def iso_ms(epoch_ms: int) -> str:
    """``1761087297000`` -> ``"2025-10-21T22:54:57.000Z"``, Outreach's timestamp form."""
    t = time.gmtime(epoch_ms // 1000)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{epoch_ms % 1000:03d}Z"
    )


class Clock:
    """Epoch seconds that follow the wall clock until frozen; ``advance`` moves it either way."""

    def __init__(self, frozen_at: float | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at = frozen_at

    def now(self) -> float:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def iso(self) -> str:
        return iso_ms(self.now_ms())

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds``; returns the new time."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
        return self.now()

    def set(self, epoch: float) -> float:
        """Jump to ``epoch`` (keeps ticking unless frozen)."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = epoch
            else:
                self._offset = epoch - time.time()
        return epoch

    def freeze(self, at: float | None = None) -> float:
        """Stop the clock at ``at`` (default: now) until :meth:`unfreeze`."""
        moment = self.now() if at is None else at
        with self._lock:
            self._frozen_at = moment
        return moment

    def unfreeze(self) -> float:
        """Let the clock tick again from where it stands."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None
        return self.now()

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None
