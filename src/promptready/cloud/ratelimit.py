"""Rate limits kept in the database, so every instance shares them: the generic cell-rate
algorithm (GCRA). One integer per key, the theoretical arrival time ``tat_us``: a request at
``now`` is allowed when ``tat - tolerance <= now`` and then moves ``tat`` to
``max(tat, now) + interval``. Both happen in one conditional UPDATE, so two instances cannot
both take the last slot.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, ColumnElement, bindparam, case
from sqlalchemy.sql.expression import BindParameter

MICROS = 1_000_000


@dataclass(frozen=True)
class Gcra:
    """A rate: one request per ``interval_us``, with a burst of ``burst`` back to back."""

    interval_us: int
    burst: int = 1

    @property
    def tolerance_us(self) -> int:
        return self.interval_us * (self.burst - 1)

    @classmethod
    def per_second(cls, rps: float) -> Gcra | None:
        """``rps`` requests a second, no burst; None when ``rps`` is 0 (the limit is off)."""
        if rps < 0:
            raise ValueError("a rate limit cannot be negative")
        return None if rps == 0 else cls(max(1, round(MICROS / rps)))

    @classmethod
    def per_hour(cls, count: int) -> Gcra | None:
        """``count`` an hour, all of them allowed at once; None when ``count`` is 0 (off)."""
        if count < 0:
            raise ValueError("a rate limit cannot be negative")
        return None if count == 0 else cls(3600 * MICROS // count, burst=count)

    def params(self, now_us: int) -> dict[str, int]:
        """The bound values for ``allows``/``advanced`` at ``now_us``."""
        return {
            "rl_now": now_us,
            "rl_interval": self.interval_us,
            "rl_limit": now_us + self.tolerance_us,
        }

    def retry_after_s(self, tat_us: int, now_us: int) -> float:
        """Seconds until a refused request would be allowed."""
        return max(0.0, (tat_us - self.tolerance_us - now_us) / MICROS)


def _param(name: str) -> BindParameter[int]:
    return bindparam(name, type_=BigInteger())


def allows(tat: ColumnElement[int]) -> ColumnElement[bool]:
    """SQL: the request fits (``tat - tolerance <= now``, bound as ``rl_limit``)."""
    return tat <= _param("rl_limit")


def advanced(tat: ColumnElement[int]) -> ColumnElement[int]:
    """SQL: the new arrival time after an allowed request."""
    now = _param("rl_now")
    return case((tat > now, tat), else_=now) + _param("rl_interval")
