"""Requests-per-minute per app: a sliding one-minute window kept in memory (one process serves
the port, so memory is the truth here; budgets in USD live in the ledger)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Admit at most ``rpm`` requests per app in any 60-second window."""

    WINDOW_S = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def admit(self, app: str, rpm: int) -> float | None:
        """None when admitted (and counted); else the seconds until a slot frees up."""
        now = self._clock()
        hits = self._hits.setdefault(app, deque())
        horizon = now - self.WINDOW_S
        while hits and hits[0] <= horizon:
            hits.popleft()
        if len(hits) >= rpm:
            return max(0.0, hits[0] + self.WINDOW_S - now)
        hits.append(now)
        return None
