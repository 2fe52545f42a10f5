"""Where the store reads the time: a protocol, the system clock, and a settable clock for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of aware UTC datetimes."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        self._at = _aware(at)

    def now(self) -> datetime:
        """The time the test last set."""
        return self._at

    def set(self, at: datetime) -> None:
        """Move the clock to ``at`` (aware, or naive meaning UTC)."""
        self._at = _aware(at)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self._at += timedelta(seconds=seconds)


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
