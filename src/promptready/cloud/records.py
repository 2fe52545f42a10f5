"""The store's public records: its settings, and what it hands out (devices, wallet views,
admissions, replays, ledger rows, weekly spend, stats) and takes in (usage). Pure data;
``promptready.cloud.store`` re-exports all of them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from promptready.cloud.cohorts import DEFAULT_COHORTS, Cohort
from promptready.cloud.wallet import Bucket, LedgerKind


@dataclass(frozen=True, kw_only=True)
class StoreSettings:
    """The store's policy knobs; the free monthly allowance and prices come from the rate card."""

    weekly_cap_usd: Decimal
    usage_key: bytes
    device_rps: float = 1.0
    hold_ttl_s: int = 600
    degrade_at: Decimal = Decimal("0.9")
    degrade_model: str | None = None
    cohorts: tuple[Cohort, ...] = DEFAULT_COHORTS
    byok_grant: int = 500
    grant_budget_month: int = 1_000_000
    registrations_per_hour: int = 20
    spend_shards: int = 16
    overdraft_credits: int = 50
    durable_hot_path: bool = False


@dataclass(frozen=True)
class Device:
    """A registered device (the wallet's owner)."""

    id: uuid.UUID
    cohort: str
    plan: str
    frozen: bool
    created_at: datetime


@dataclass(frozen=True)
class CreditsView:
    """A wallet as the client sees it; ``available`` is balance minus open holds."""

    device_id: uuid.UUID
    balance: int
    reserved: int
    available: int
    buckets: dict[Bucket, int]
    cohort: str
    plan: str
    frozen: bool
    # Credits spent this UTC month: read only where the wallet is shown (None elsewhere, so a
    # settle's view never claims 0).
    used_month: int | None = None


@dataclass(frozen=True)
class Admission:
    """An admitted request: its open hold and the model to call."""

    hold_id: str
    credits: int
    cost_usd: Decimal
    cohort: Cohort
    model: str
    degraded: bool


@dataclass(frozen=True)
class Replay:
    """The stored answer to a request, returned again when the same idempotency key comes back."""

    status: int
    body: bytes
    content_type: str


@dataclass(frozen=True)
class UsageRecord:
    """What one charged request used, as measured after the upstream call."""

    prompt_tokens: int
    completion_tokens: int
    model: str
    cohort: str
    cost_usd: Decimal
    credits: int
    latency_ms: int
    status: str


@dataclass(frozen=True)
class LedgerEntry:
    """One append-only ledger row."""

    id: int
    device_id: uuid.UUID
    kind: LedgerKind
    bucket: Bucket
    delta: int
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class WeeklySpend:
    """This ISO week's spend against the cap (committed: settled; reserved: open holds)."""

    week: str
    committed_usd: Decimal
    reserved_usd: Decimal
    cap_usd: Decimal


@dataclass(frozen=True)
class Stats:
    """Totals for the admin CLI and metrics."""

    devices: int
    open_holds: int
    credits_outstanding: int
    credits_debited: int
    usage_events: int
    weekly: WeeklySpend
    cohorts: dict[str, int] = field(default_factory=dict)
