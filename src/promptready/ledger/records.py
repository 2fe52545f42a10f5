"""One ledger row, as plain data, and the exact money unit it is stored in."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

SOURCES = ("popup", "cli", "gateway")
MODES = ("offline", "byok", "credits", "cache")
# Rows in this mode were paid in credits. Their ``cost_usd`` is the credits at the dearest pack's
# price (the meter's rule), what dollar budgets and caps count them as; it is not money paid
# per call (the credits were free or bought before), so money shown to the user leaves them out.
PAID_IN_CREDITS = "credits"
STATUSES = ("ok", "error", "cancelled", "blocked")
MICRO = Decimal("0.000001")


def micro_usd(amount: Decimal) -> int:
    """USD as whole micro-dollars (half-even): what the file stores, so sums stay exact."""
    return int((amount / MICRO).to_integral_value())


def usd(micro: int) -> Decimal:
    """Micro-dollars back to exact USD (zero as plain 0, not 0E-6)."""
    return Decimal(micro) * MICRO if micro else Decimal(0)


def _now() -> datetime:
    return datetime.now(UTC)


# Row ids: 32 hex digits like a UUID, but time-ordered (milliseconds first, like UUIDv7) so a
# batch appends to the end of the primary-key index instead of dirtying random pages: half the
# insert cost of uuid4 ids (bench/ledger_bench.py), and no system call per id. The random
# per-process part keeps two processes (or two runs in the same millisecond) apart; the counter
# keeps one process's ids apart.
_MASK_48 = (1 << 48) - 1


class _IdSource:
    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self.prefix = os.urandom(4).hex()
        self.counter = itertools.count(int.from_bytes(os.urandom(2), "big"))


_IDS = _IdSource()
os.register_at_fork(after_in_child=_IDS.reseed)  # a forked child must not repeat its parent


def new_id() -> str:
    """A fresh, unique, roughly time-ordered row id."""
    millis = time.time_ns() // 1_000_000 & _MASK_48
    return f"{millis:012x}{_IDS.prefix}{next(_IDS.counter) & _MASK_48:012x}"


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and building one is
# on every call the gateway meters (5.9 -> 3.0 us per record here, micro_usd included). Nothing
# hashes a record or changes one after it is built (the meter builds it, the writer queues and
# stores it): treat it as read-only.
@dataclass(slots=True)
class UsageRecord:
    """One call: who made it, what it used, what it cost, how it went."""

    source: str
    mode: str
    status: str = "ok"
    app: str | None = None
    provider: str | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_estimated: bool = False
    cost_usd: Decimal = Decimal(0)
    credits: int = 0
    latency_ms: float | None = None
    ttft_ms: float | None = None
    error_code: str | None = None
    request_id: str | None = None
    cache_hit: bool = False
    hops: str | None = None  # fallback hops, e.g. "openai/gpt-4o-mini:429 → groq/llama:ok"
    prompt_text: str | None = None  # written only when the user opted in
    unpriced: bool = False  # the model has no price: cost_usd is 0 because it is unknown
    id: str = field(default_factory=new_id)
    timestamp: datetime = field(default_factory=_now)
    # The cost as stored (what budgets count): whole micro-dollars, computed once, as the
    # writer's spend counters and the row both read it.
    micro_usd: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.source not in SOURCES or self.mode not in MODES or self.status not in STATUSES:
            raise ValueError(f"bad ledger record {self.source}/{self.mode}/{self.status}")
        # A float here would make sums inexact; a naive timestamp would land on the wrong day.
        if not isinstance(self.cost_usd, Decimal) or not self.cost_usd.is_finite():
            raise ValueError(f"bad ledger record cost {self.cost_usd!r}: use a finite Decimal")
        if self.timestamp.tzinfo is None:
            raise ValueError("bad ledger record timestamp: it needs a timezone (use UTC)")
        if min(self.prompt_tokens, self.completion_tokens) < 0:
            raise ValueError("bad ledger record tokens: counts cannot be negative")
        self.micro_usd = micro_usd(self.cost_usd)

    @property
    def day(self) -> date:
        """The UTC day the call belongs to (rollups and budgets count by it)."""
        return self.timestamp.astimezone(UTC).date()


def paid_usd(row: Mapping[str, Any]) -> Decimal:
    """The money a row as ``Ledger.last`` gives it cost: 0 when it was paid in credits."""
    return Decimal(0) if row["mode"] == PAID_IN_CREDITS else Decimal(row["cost_usd"])
