"""The hosted proxy's store: devices, wallets, holds, the weekly breaker, rate limits, usage.

One ``Store`` per process holds the async engine. Every money rule lives behind it; HTTP and
billing call only this facade. Credits are ``int``; USD is ``Decimal`` (stored as integer
micro-dollars).

Deviations from the contract (cloud-contract.md):
- ``StoreSettings`` is keyword-only and adds ``usage_key: bytes`` (required, at least 16 bytes): the
  server-side key that hashes device ids in usage events (HMAC-SHA256), so raw events cannot be
  joined back to a device without it.
- The ledger holds rows that move the balance (grant, purchase, debit, refund, expiry,
  adjustment). Holds and their release live in the ``holds`` table (one row per hold with its
  state), so ``reserved == SUM(open holds)``; ``LedgerKind.HOLD``/``RELEASE`` are never written.
- ``settle(..., response=None)`` forgets the request's idempotency key, so a retry runs again;
  pass ``response`` to make retries replay the stored answer.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud.clock import Clock, FixedClock, SystemClock
from promptready.cloud.cohorts import DEFAULT_COHORTS, Cohort, assign_cohort

__all__ = [
    "DEFAULT_COHORTS",
    "Admission",
    "AlreadyClaimed",
    "BreakerOpen",
    "Bucket",
    "Clock",
    "Cohort",
    "CreditsView",
    "Device",
    "DeviceExists",
    "DeviceUnknown",
    "FixedClock",
    "GrantBudgetExhausted",
    "IdempotencyInFlight",
    "InsufficientCredits",
    "LedgerEntry",
    "LedgerKind",
    "RateLimited",
    "RegistrationLimited",
    "Replay",
    "Stats",
    "Store",
    "StoreError",
    "StoreSettings",
    "SystemClock",
    "UsageRecord",
    "WalletFrozen",
    "WeeklySpend",
    "assign_cohort",
]


class Bucket(StrEnum):
    """Where credits sit; a debit spends the bucket that expires first."""

    FREE = "free"
    PURCHASED = "purchased"
    SUBSCRIPTION = "subscription"


class LedgerKind(StrEnum):
    """Why a ledger row moved the balance."""

    GRANT = "grant"
    PURCHASE = "purchase"
    DEBIT = "debit"
    HOLD = "hold"
    RELEASE = "release"
    REFUND = "refund"
    EXPIRY = "expiry"
    ADJUSTMENT = "adjustment"


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


class StoreError(Exception):
    """A request the store refused; the message is one sentence a user can act on."""


class DeviceExists(StoreError):
    def __init__(self) -> None:
        super().__init__("This device is already registered; refresh its token instead.")


class DeviceUnknown(StoreError):
    def __init__(self) -> None:
        super().__init__("This device is not registered; register it first.")


class RegistrationLimited(StoreError):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__("Too many new devices from this client; try again later.")
        self.retry_after_s = retry_after_s


class BreakerOpen(StoreError):
    def __init__(self, resets_at: datetime) -> None:
        super().__init__("The service has reached its weekly budget; try again next week.")
        self.resets_at = resets_at


class InsufficientCredits(StoreError):
    def __init__(self, available: int, required: int) -> None:
        super().__init__(
            f"Not enough credits: {available} available, {required} needed; top up to continue."
        )
        self.available = available
        self.required = required


class RateLimited(StoreError):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__("Too many requests from this device; slow down and retry shortly.")
        self.retry_after_s = retry_after_s


class WalletFrozen(StoreError):
    def __init__(self) -> None:
        super().__init__("This wallet is frozen while a payment dispute is open; contact support.")


class IdempotencyInFlight(StoreError):
    def __init__(self) -> None:
        super().__init__("A request with this idempotency key is still running; retry shortly.")


class AlreadyClaimed(StoreError):
    def __init__(self) -> None:
        super().__init__("This device has already claimed its migration credits.")


class GrantBudgetExhausted(StoreError):
    def __init__(self) -> None:
        super().__init__("This month's grant budget is used up; try again next month.")


class Store:
    """The async facade over the database (one per process)."""

    @classmethod
    async def open(cls, url: str, settings: StoreSettings, clock: Clock | None = None) -> Store:
        """Connect (pooled) to ``url``; the schema is not touched until ``ensure_schema``."""
        raise NotImplementedError

    async def close(self) -> None:
        """Dispose of the pool."""
        raise NotImplementedError

    async def ensure_schema(self) -> None:
        """Run the migrations when the database is empty (``serve`` calls this)."""
        raise NotImplementedError

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite) for callers that add their own rows."""
        raise NotImplementedError

    async def register_device(
        self, device_id: uuid.UUID, secret_hash: bytes, client_key: str
    ) -> Device:
        """Create a device with its sticky cohort and an empty wallet."""
        raise NotImplementedError

    async def device(self, device_id: uuid.UUID) -> Device | None:
        """The device, or None when unknown."""
        raise NotImplementedError

    async def secret_hash(self, device_id: uuid.UUID) -> bytes | None:
        """The stored hash of the device's secret, or None when unknown."""
        raise NotImplementedError

    async def credits(self, device_id: uuid.UUID) -> CreditsView:
        """The wallet, after the lazy free monthly top-up."""
        raise NotImplementedError

    async def admit(
        self,
        device_id: uuid.UUID,
        *,
        credits: int,
        cost_usd: Decimal,
        idempotency_key: str | None,
    ) -> Admission | Replay:
        """Breaker, free top-up, wallet hold and device rate limit in one transaction."""
        raise NotImplementedError

    async def settle(
        self, hold_id: str, usage: UsageRecord, *, response: Replay | None = None
    ) -> CreditsView:
        """Charge the actual credits, release the rest, record spend and usage (at most once)."""
        raise NotImplementedError

    async def release(self, hold_id: str) -> None:
        """Release a hold without charging (at most once)."""
        raise NotImplementedError

    async def expire_holds(self) -> int:
        """Release every open hold past its TTL; returns how many."""
        raise NotImplementedError

    async def grant(
        self,
        device_id: uuid.UUID,
        credits: int,
        *,
        bucket: Bucket,
        kind: LedgerKind,
        idem_key: str,
        reason: str,
        expires_at: datetime | None = None,
        conn: AsyncConnection | None = None,
    ) -> bool:
        """Add credits to a bucket; False when ``idem_key`` was already applied."""
        raise NotImplementedError

    async def revoke(
        self,
        device_id: uuid.UUID,
        credits: int,
        *,
        kind: LedgerKind,
        idem_key: str,
        reason: str,
        conn: AsyncConnection | None = None,
    ) -> bool:
        """Take credits back (may leave a debt); False when ``idem_key`` was already applied."""
        raise NotImplementedError

    async def set_frozen(
        self, device_id: uuid.UUID, frozen: bool, conn: AsyncConnection | None = None
    ) -> None:
        """Freeze or unfreeze the wallet (a frozen wallet admits nothing)."""
        raise NotImplementedError

    async def set_plan(
        self, device_id: uuid.UUID, plan: str, conn: AsyncConnection | None = None
    ) -> None:
        """Set the device's plan ("free" or "pro")."""
        raise NotImplementedError

    async def claim_byok_migration(self, device_id: uuid.UUID) -> int:
        """Grant the one-off BYOK migration credits; returns the credits granted."""
        raise NotImplementedError

    async def ledger(self, device_id: uuid.UUID) -> list[LedgerEntry]:
        """The device's ledger rows, oldest first."""
        raise NotImplementedError

    async def set_weekly_cap(self, usd: Decimal) -> None:
        """Set the global weekly cap (shared by every instance)."""
        raise NotImplementedError

    async def weekly_spend(self) -> WeeklySpend:
        """This ISO week's committed and reserved spend and the cap."""
        raise NotImplementedError

    async def stats(self) -> Stats:
        """Totals for the admin CLI."""
        raise NotImplementedError

    async def prune_usage(self, days: int = 30) -> int:
        """Delete raw usage events older than ``days`` (weekly aggregates are kept)."""
        raise NotImplementedError

    async def check_invariants(self) -> list[str]:
        """Every wallet whose balance or reserved disagrees with the ledger or open holds."""
        raise NotImplementedError
