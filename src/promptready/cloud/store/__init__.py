"""The hosted proxy's store: devices, wallets, holds, the weekly breaker, rate limits, usage.

One ``Store`` per process holds the async engine. Every money rule lives behind it; HTTP and
billing call only this facade. Credits are ``int``; USD is ``Decimal`` (stored as integer
micro-dollars). The transactional code here is the reference on both dialects; on PostgreSQL
the happy path of admit and settle runs as one statement each (``hotpath``), and everything
else (refusals, the monthly top-up, idempotent replays) falls back to it. Records are defined
in ``records``, the rules in ``wallet``, ``breaker``, ``ratelimit``, ``cohorts``, ``usage``.

Limits worth knowing: the weekly cap is split evenly over ``spend_shards`` rows, so a single
estimate above ``cap / spend_shards`` is never admitted, and near the cap up to one estimate per
shard of room may go unused (use ``spend_shards=1`` for a tiny cap). Settling above the estimate
commits the real cost, which may take committed spend past the cap (the breaker is then open).

Deviations from the contract (cloud-contract.md):
- ``StoreSettings`` is keyword-only and adds ``usage_key: bytes`` (required, at least 16 bytes): the
  server-side key that hashes device ids in usage events (HMAC-SHA256), so raw events cannot be
  joined back to a device without it.
- The ledger holds rows that move the balance (grant, purchase, debit, refund, expiry,
  adjustment). Holds and their release live in the ``holds`` table (one row per hold with its
  state), so ``reserved == SUM(open holds)``; ``LedgerKind.HOLD``/``RELEASE`` are never written.
- ``revoke`` takes an optional ``bucket`` (default ``PURCHASED``): credits come out of it, and what
  it no longer holds becomes a debt in the purchased bucket (the only one that may go negative).
- ``grant(..., expires_at=...)`` sets the subscription bucket's expiry (other buckets ignore it);
  lapsed subscription credits are written off (``EXPIRY``) lazily, like the free top-up.
- ``settle``/``release`` of a hold id that never existed raise ``HoldUnknown``.
- ``grant_budget_month`` counts every credit given away free in a calendar month: the lazy free
  top-ups as well as BYOK migrations (a flood of new devices cannot exceed it; once it is spent,
  the month passes without a top-up and ``claim_byok_migration`` raises GrantBudgetExhausted).
- ``StoreSettings.durable_hot_path`` (default False): on PostgreSQL the one-statement admit and
  settle commit with ``synchronous_commit=off`` (measured here: a WAL flush costs ~2.4 ms, 20x a
  round trip). A database server crash may then forget the last few hundred milliseconds of
  admits and settles, as a consistent prefix: a forgotten settle leaves its hold open until it
  expires (the request goes uncharged), never a double charge or a balance that disagrees with
  the ledger. Grants, revokes, purchases and everything else commit synchronously. True
  (``PROMPTREADY_CLOUD_DURABLE_HOT_PATH=1``) makes the hot path durable too.
- ``settle(..., response=None)`` forgets the request's idempotency key, so a retry runs again;
  pass ``response`` to make retries replay the stored answer.
"""

from __future__ import annotations

from promptready.cloud.clock import Clock, FixedClock, SystemClock
from promptready.cloud.cohorts import DEFAULT_COHORTS, Cohort, assign_cohort
from promptready.cloud.records import (
    Admission,
    CreditsView,
    Device,
    LedgerEntry,
    Replay,
    Stats,
    StoreSettings,
    UsageRecord,
    WeeklySpend,
)
from promptready.cloud.store.admit import Admits
from promptready.cloud.store.devices import Devices
from promptready.cloud.store.refusals import (
    AlreadyClaimed,
    BreakerOpen,
    DeviceExists,
    DeviceUnknown,
    GrantBudgetExhausted,
    HoldUnknown,
    IdempotencyInFlight,
    InsufficientCredits,
    RateLimited,
    RegistrationLimited,
    StoreError,
    WalletFrozen,
)
from promptready.cloud.store.upkeep import Upkeep
from promptready.cloud.wallet import Bucket, LedgerKind

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
    "HoldUnknown",
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


class Store(Admits, Devices, Upkeep):
    """The async facade over the database (one per process). Its parts, one job each: ``core``
    (engines, settings, transactions), ``devices``, ``wallets``, ``admit``, ``settle`` and
    ``upkeep``, with the inputs' checks in ``checks``, row reading in ``rows`` and the refusals
    in ``refusals``."""
