"""One ledger row, as plain data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

SOURCES = ("popup", "cli", "gateway")
MODES = ("offline", "byok", "credits", "cache")
STATUSES = ("ok", "error", "cancelled", "blocked")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
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
    hops: str | None = None
    prompt_text: str | None = None  # only when the user opted in
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    timestamp: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        if self.source not in SOURCES or self.mode not in MODES or self.status not in STATUSES:
            raise ValueError(f"bad ledger record {self.source}/{self.mode}/{self.status}")
