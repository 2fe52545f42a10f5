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
  the ledger. Grants, revokes, purchases and everything else commit synchronously. True makes
  the hot path durable too.
- ``settle(..., response=None)`` forgets the request's idempotency key, so a retry runs again;
  pass ``response`` to make retries replay the stored answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from promptready.cloud import audit, breaker, hotbatch, hotpath, wallet
from promptready.cloud.breaker import Reservation, from_micro, to_micro, week_key, week_resets_at
from promptready.cloud.clock import Clock, FixedClock, SystemClock
from promptready.cloud.cohorts import DEFAULT_COHORTS, Cohort, assign_cohort, cohort_named
from promptready.cloud.db import (
    DatabaseUrl,
    Dialect,
    Driver,
    create_engine,
    insert_for,
    is_empty,
    migrate_async,
    parse_database_url,
)
from promptready.cloud.holds import (
    EXPIRED,
    HOLDER,
    IDEM_ANSWER,
    IDEM_FORGET,
    IDEM_LOOKUP,
    RESOLVE,
    HoldState,
    new_hold_id,
)
from promptready.cloud.ratelimit import MICROS, Gcra, advanced, allows
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
from promptready.cloud.schema import (
    WEEKLY_CAP_KEY,
    devices,
    grant_budget,
    holds,
    idempotency,
    ledger,
    rate_limits,
    settings,
    usage_events,
    wallets,
    weekly_spend,
)
from promptready.cloud.usage import INSERT_EVENT, UsageHasher, prune
from promptready.cloud.wallet import Bucket, LedgerKind, Movement, WalletState, month_key
from promptready.pricing import load_rate_card

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


class HoldUnknown(StoreError):
    def __init__(self) -> None:
        super().__init__("There is no such hold; it was never opened by this store.")


USAGE_STATUSES = frozenset({"ok", "cancelled", "error"})
PLANS = frozenset({"free", "pro"})
MAX_IDEMPOTENCY_KEY = 200
EXPIRE_BATCH = 500
# Tries of "the shard with the most room" before the breaker reports open (a race can make a
# chosen shard full between the pick and the update).
ROOM_TRIES = 3
# Connections for the hot statements per process: c=32 requests each make two short
# statements, so about half of them are in the database at any moment.
HOT_POOL_SIZE = 16

_DEVICE_COLUMNS = (
    devices.c.id,
    devices.c.cohort,
    devices.c.plan,
    devices.c.created_at,
    wallets.c.frozen,
)
_WALLET_COLUMNS = (
    wallets.c.balance,
    wallets.c.reserved,
    wallets.c.free,
    wallets.c.purchased,
    wallets.c.subscription,
    wallets.c.subscription_expires_at,
    wallets.c.free_month,
    wallets.c.tat_us,
)


def _wallet_query(device_id: uuid.UUID, *, lock: bool) -> Any:
    query = (
        select(*_DEVICE_COLUMNS, *_WALLET_COLUMNS)
        .select_from(devices.join(wallets, wallets.c.device_id == devices.c.id))
        .where(devices.c.id == device_id)
    )
    return query.with_for_update(of=wallets) if lock else query


def _shown_wallet_query(device_id: uuid.UUID, since_s: int) -> Any:
    """The wallet with the credits debited since ``since_s`` (a subquery: still one statement,
    over the ledger's (device_id, id) index)."""
    used = (
        select(func.coalesce(-func.sum(ledger.c.delta), 0))
        .where(
            ledger.c.device_id == devices.c.id,
            ledger.c.kind == LedgerKind.DEBIT.value,
            ledger.c.created_at >= since_s,
        )
        .scalar_subquery()
    )
    return _wallet_query(device_id, lock=False).add_columns(used.label("used_month"))


def _used_month(value: Any) -> int | None:
    return None if value is None else int(value)


def _view(row: Any) -> CreditsView:
    state = WalletState.from_row(row)
    return CreditsView(
        device_id=row.id,
        balance=state.balance,
        reserved=int(row.reserved),
        available=state.balance - int(row.reserved),
        buckets=state.buckets(),
        cohort=row.cohort,
        plan=row.plan,
        frozen=bool(row.frozen),
        used_month=_used_month(row._mapping.get("used_month")),
    )


def _device(row: Any) -> Device:
    return Device(
        id=row.id,
        cohort=row.cohort,
        plan=row.plan,
        frozen=bool(row.frozen),
        created_at=datetime.fromtimestamp(int(row.created_at), tz=UTC),
    )


def _check_settings(config: StoreSettings) -> None:
    if config.weekly_cap_usd < 0:
        raise ValueError("the weekly cap cannot be negative")
    if config.spend_shards < 1:
        raise ValueError("spend_shards must be at least 1")
    if config.hold_ttl_s < 1:
        raise ValueError("hold_ttl_s must be at least 1 second")
    if not Decimal(0) < config.degrade_at <= Decimal(1):
        raise ValueError("degrade_at must be a fraction of the cap in (0, 1]")
    if min(config.byok_grant, config.grant_budget_month, config.overdraft_credits) < 0:
        raise ValueError("grants, grant budgets and the overdraft cannot be negative")
    if not config.cohorts:
        raise ValueError("at least one cohort is needed")


class Store:
    """The async facade over the database (one per process)."""

    def __init__(
        self,
        engine: AsyncEngine,
        db: DatabaseUrl,
        config: StoreSettings,
        clock: Clock,
        free_month_credits: int,
    ) -> None:
        _check_settings(config)
        self._engine = engine
        self._db = db
        self._settings = config
        self._clock = clock
        self._free_month = free_month_credits
        self._hasher = UsageHasher(config.usage_key)
        self._insert = insert_for(db.dialect)
        # One process owns a SQLite file: queue its writers here instead of in SQLite's busy
        # handler (which sleeps); BEGIN IMMEDIATE still guards against other processes.
        self._lock = asyncio.Lock() if db.dialect is Dialect.SQLITE else None
        self._device_rate = Gcra.per_second(config.device_rps)
        self._registration_rate = Gcra.per_hour(config.registrations_per_hour)
        self._hold = wallet.hold_statement(rate_limited=self._device_rate is not None)
        # PostgreSQL runs the happy path of admit and settle as single autocommit statements.
        self._fast = (
            create_engine(db, synchronous_commit=config.durable_hot_path).execution_options(
                isolation_level="AUTOCOMMIT"
            )
            if db.dialect is Dialect.POSTGRESQL
            else None
        )
        self._fast_admit = hotpath.Prepared(
            hotpath.admit_statement(rate_limited=self._device_rate is not None)
        )
        self._fast_settle = {
            True: hotpath.Prepared(hotpath.settle_statement(True)),
            False: hotpath.Prepared(hotpath.settle_statement(False)),
        }
        # The two hot statements skip SQLAlchemy: on asyncpg directly they cost a fraction of
        # the CPU (bench/cloud_bench.py); on psycopg they run through the engine above.
        self._hot = (
            hotpath.HotPool(
                db.url.set(drivername="postgresql").render_as_string(hide_password=False),
                HOT_POOL_SIZE,
                synchronous_commit=config.durable_hot_path,
            )
            if db.dialect is Dialect.POSTGRESQL and db.url.drivername.endswith(Driver.ASYNCPG)
            else None
        )
        # Concurrent admits and settles of this process share transactions (group commit).
        self._batches = (
            hotbatch.HotBatches(self._hot, self._fast_admit, self._fast_settle)
            if self._hot is not None
            else None
        )
        self._cap_micro = to_micro(config.weekly_cap_usd)
        self._degrade_model = config.degrade_model or _cheapest(config.cohorts)
        self._rate_upsert = (
            self._insert(rate_limits)
            .values(key=bindparam("p_key"), tat_us=bindparam("p_first", type_=BigInteger()))
            .on_conflict_do_update(
                index_elements=[rate_limits.c.key],
                set_={"tat_us": advanced(rate_limits.c.tat_us)},
                where=allows(rate_limits.c.tat_us),
            )
            .returning(rate_limits.c.tat_us)
        )

    @classmethod
    async def open(cls, url: str, settings: StoreSettings, clock: Clock | None = None) -> Store:
        """Connect (pooled) to ``url``; the schema is not touched until ``ensure_schema``."""
        db = parse_database_url(url)
        free = load_rate_card().plans["free"].credits_month
        # On PostgreSQL the hot path has its own pool; this one serves the rest.
        pool = 4 if db.dialect is Dialect.POSTGRESQL else 16
        return cls(create_engine(db, pool_size=pool), db, settings, clock or SystemClock(), free)

    async def close(self) -> None:
        """Dispose of the pools."""
        await self._engine.dispose()
        if self._fast is not None:
            await self._fast.dispose()
        if self._hot is not None:
            await self._hot.close()

    async def ensure_schema(self) -> None:
        """Run the migrations when the database is empty (``serve`` calls this)."""
        async with self._engine.connect() as conn:
            empty = await is_empty(conn)
        if empty:
            await migrate_async(self._db.url.render_as_string(hide_password=False))

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        if self._lock is None:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with self._lock, self._engine.begin() as conn:
            yield conn

    def _read(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """Single reads: autocommit on PostgreSQL (one round trip, no BEGIN/ROLLBACK)."""
        if self._fast is not None:
            return self._fast.connect()
        return self._write()

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[AsyncConnection]:
        """Several reads that must agree with each other (one snapshot)."""
        if self._lock is not None:
            async with self._write() as conn:
                yield conn
            return
        async with self._engine.connect() as conn:
            await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def _using(self, conn: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
        if conn is not None:
            yield conn
            return
        async with self._write() as own:
            yield own

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite) for callers that add their own rows."""
        return self._write()

    # -- devices -----------------------------------------------------------------------------

    async def register_device(
        self, device_id: uuid.UUID, secret_hash: bytes, client_key: str
    ) -> Device:
        """Create a device with its sticky cohort and an empty wallet (its free credits arrive
        with the first call of the month); registrations are rate-limited per ``client_key``."""
        now = self._clock.now()
        cohort = assign_cohort(device_id, self._settings.cohorts).name
        async with self._write() as conn:
            created = await conn.execute(
                self._insert(devices)
                .values(
                    id=device_id,
                    secret_hash=secret_hash,
                    cohort=cohort,
                    plan="free",
                    created_at=int(now.timestamp()),
                )
                .on_conflict_do_nothing()
                .returning(devices.c.id)
            )
            if created.first() is None:
                raise DeviceExists
            if self._registration_rate is not None:
                # The client key (an address) is stored only as a hash.
                digest = hashlib.sha256(client_key.encode()).hexdigest()[:40]
                wait = await self._take(conn, f"register:{digest}", self._registration_rate, now)
                if wait is not None:
                    raise RegistrationLimited(wait)
            await conn.execute(
                insert(wallets).values(
                    device_id=device_id,
                    balance=0,
                    reserved=0,
                    free=0,
                    purchased=0,
                    subscription=0,
                    free_month="",
                    frozen=False,
                    tat_us=0,
                )
            )
        return Device(device_id, cohort, "free", False, now.replace(microsecond=0))

    async def _take(
        self, conn: AsyncConnection, key: str, rate: Gcra, now: datetime
    ) -> float | None:
        """Take one slot of ``rate`` for ``key``: None when allowed, else seconds to wait."""
        now_us = int(now.timestamp() * MICROS)
        params = {"p_key": key, "p_first": now_us + rate.interval_us, **rate.params(now_us)}
        if (await conn.execute(self._rate_upsert, params)).first() is not None:
            return None
        tat = await conn.scalar(select(rate_limits.c.tat_us).where(rate_limits.c.key == key))
        return rate.retry_after_s(int(tat or 0), now_us)

    async def device(self, device_id: uuid.UUID) -> Device | None:
        """The device, or None when unknown."""
        async with self._read() as conn:
            row = (await conn.execute(_wallet_query(device_id, lock=False))).first()
        return None if row is None else _device(row)

    async def secret_hash(self, device_id: uuid.UUID) -> bytes | None:
        """The stored hash of the device's secret, or None when unknown."""
        async with self._read() as conn:
            found = await conn.scalar(
                select(devices.c.secret_hash).where(devices.c.id == device_id)
            )
        return None if found is None else bytes(found)

    async def set_frozen(
        self, device_id: uuid.UUID, frozen: bool, conn: AsyncConnection | None = None
    ) -> None:
        """Freeze or unfreeze the wallet (a frozen wallet admits nothing)."""
        async with self._using(conn) as c:
            done = await c.execute(
                update(wallets).where(wallets.c.device_id == device_id).values(frozen=frozen)
            )
            if done.rowcount == 0:
                raise DeviceUnknown

    async def set_plan(
        self, device_id: uuid.UUID, plan: str, conn: AsyncConnection | None = None
    ) -> None:
        """Set the device's plan ("free" or "pro")."""
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}; use one of {', '.join(sorted(PLANS))}")
        async with self._using(conn) as c:
            done = await c.execute(
                update(devices).where(devices.c.id == device_id).values(plan=plan)
            )
            if done.rowcount == 0:
                raise DeviceUnknown

    # -- wallets -----------------------------------------------------------------------------

    async def credits(self, device_id: uuid.UUID) -> CreditsView:
        """The wallet with this month's use, after the lazy free monthly top-up."""
        now = self._clock.now()
        shown = _shown_wallet_query(device_id, wallet.month_start(now))
        async with self._read() as conn:
            row = (await conn.execute(shown)).first()
        if row is None:
            raise DeviceUnknown
        if wallet.current(WalletState.from_row(row), now):
            return _view(row)
        async with self._write() as conn:  # once a month: top up, then read it as shown
            await self._refreshed(conn, device_id, now)
            return _view((await conn.execute(shown)).one())

    async def _refreshed(self, conn: AsyncConnection, device_id: uuid.UUID, now: datetime) -> Any:
        """Lock the wallet, apply the monthly top-up and expiry, and return the row."""
        row = (await conn.execute(_wallet_query(device_id, lock=True))).first()
        if row is None:
            raise DeviceUnknown
        state = WalletState.from_row(row)
        if wallet.current(state, now):
            return row
        after, moves = wallet.refresh(
            state, now, plan=row.plan, free_month_credits=self._free_month
        )
        top_up = sum(m.delta for m in moves if m.kind is LedgerKind.GRANT)
        if top_up and not await self._take_budget(conn, after.free_month, top_up):
            # The month's free-grant budget is spent: the month passes without a top-up.
            after, moves = wallet.refresh(state, now, plan=row.plan, free_month_credits=0)
        ref = f"{device_id}:{after.free_month}:{state.subscription_expires_at}"
        await self._record(conn, device_id, moves, ref, now)
        await self._store_state(conn, device_id, after)
        return (await conn.execute(_wallet_query(device_id, lock=False))).one()

    async def _record(
        self,
        conn: AsyncConnection,
        device_id: uuid.UUID,
        moves: list[Movement],
        ref: str,
        now: datetime,
    ) -> None:
        """Append ledger rows; each is keyed ``kind:ref:bucket`` so it can happen only once."""
        if not moves:
            return
        await conn.execute(
            insert(ledger),
            [
                {
                    "device_id": device_id,
                    "kind": m.kind.value,
                    "bucket": m.bucket.value,
                    "delta": m.delta,
                    "idem_key": f"{m.kind.value}:{ref}:{m.bucket.value}",
                    "reason": m.reason,
                    "created_at": int(now.timestamp()),
                }
                for m in moves
            ],
        )

    async def _store_state(
        self, conn: AsyncConnection, device_id: uuid.UUID, state: WalletState, unreserve: int = 0
    ) -> None:
        await conn.execute(
            update(wallets)
            .where(wallets.c.device_id == device_id)
            .values(
                balance=state.balance,
                free=state.free,
                purchased=state.purchased,
                subscription=state.subscription,
                subscription_expires_at=state.subscription_expires_at,
                free_month=state.free_month,
                reserved=wallets.c.reserved - unreserve,
            )
        )

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
        if credits <= 0:
            raise ValueError("a grant must be a positive number of credits")
        _check_key(idem_key)
        async with self._using(conn) as c:
            row = (await c.execute(_wallet_query(device_id, lock=True))).first()
            if row is None:
                raise DeviceUnknown
            if not await self._append(
                c,
                device_id,
                kind=kind,
                bucket=bucket,
                delta=credits,
                idem_key=idem_key,
                reason=reason,
            ):
                return False
            state = WalletState.from_row(row)
            buckets = state.buckets()
            buckets[bucket] += credits
            after = state.with_buckets(buckets)
            if bucket is Bucket.SUBSCRIPTION and expires_at is not None:
                after = replace(after, subscription_expires_at=int(expires_at.timestamp()))
            await self._store_state(c, device_id, after)
            return True

    async def revoke(
        self,
        device_id: uuid.UUID,
        credits: int,
        *,
        kind: LedgerKind,
        idem_key: str,
        reason: str,
        bucket: Bucket = Bucket.PURCHASED,
        conn: AsyncConnection | None = None,
    ) -> bool:
        """Take credits back, from ``bucket`` first; what it lacks becomes a debt (a negative
        purchased bucket) that blocks paid calls. False when ``idem_key`` was already applied."""
        if credits <= 0:
            raise ValueError("a revoke must be a positive number of credits")
        _check_key(idem_key)
        async with self._using(conn) as c:
            row = (await c.execute(_wallet_query(device_id, lock=True))).first()
            if row is None:
                raise DeviceUnknown
            state = WalletState.from_row(row)
            buckets = state.buckets()
            first = min(credits, max(buckets[bucket], 0)) if bucket is not Bucket.PURCHASED else 0
            parts = {bucket: first, Bucket.PURCHASED: credits - first}
            appended = False
            for i, (part_bucket, amount) in enumerate(parts.items()):
                if amount == 0:
                    continue
                key = idem_key if i == 0 or first == 0 else f"{idem_key}:debt"
                if not await self._append(
                    c,
                    device_id,
                    kind=kind,
                    bucket=part_bucket,
                    delta=-amount,
                    idem_key=key,
                    reason=reason,
                ):
                    return False
                buckets[part_bucket] -= amount
                appended = True
            if appended:
                await self._store_state(c, device_id, state.with_buckets(buckets))
            return appended

    async def _append(
        self,
        conn: AsyncConnection,
        device_id: uuid.UUID,
        *,
        kind: LedgerKind,
        bucket: Bucket,
        delta: int,
        idem_key: str,
        reason: str,
    ) -> bool:
        """Append one ledger row unless ``idem_key`` is taken; True when appended."""
        added = await conn.execute(
            self._insert(ledger)
            .values(
                device_id=device_id,
                kind=kind.value,
                bucket=bucket.value,
                delta=delta,
                idem_key=idem_key,
                reason=reason[:300],
                created_at=int(self._clock.now().timestamp()),
            )
            .on_conflict_do_nothing()
            .returning(ledger.c.id)
        )
        return added.first() is not None

    async def _take_budget(self, conn: AsyncConnection, month: str, credits: int) -> bool:
        """Count ``credits`` given away free this month against ``grant_budget_month``;
        False (nothing counted) when they do not fit."""
        limit = self._settings.grant_budget_month
        if credits > limit:
            return False
        taken = await conn.execute(
            self._insert(grant_budget)
            .values(month=month, granted=credits)
            .on_conflict_do_update(
                index_elements=[grant_budget.c.month],
                set_={"granted": grant_budget.c.granted + credits},
                where=grant_budget.c.granted + credits <= limit,
            )
            .returning(grant_budget.c.granted)
        )
        return taken.first() is not None

    async def claim_byok_migration(self, device_id: uuid.UUID) -> int:
        """Grant the one-off BYOK migration credits (purchased bucket, never expire) against the
        global monthly grant budget (shared with the free monthly top-ups); returns them."""
        amount = self._settings.byok_grant
        key = f"byok-migration:{device_id}"
        month = month_key(self._clock.now())
        async with self._write() as conn:
            # The wallet is locked before the budget row, as the monthly top-up does.
            if (await conn.execute(_wallet_query(device_id, lock=True))).first() is None:
                raise DeviceUnknown
            if await conn.scalar(select(ledger.c.id).where(ledger.c.idem_key == key)):
                raise AlreadyClaimed
            if not await self._take_budget(conn, month, amount):
                raise GrantBudgetExhausted
            applied = await self.grant(
                device_id,
                amount,
                bucket=Bucket.PURCHASED,
                kind=LedgerKind.GRANT,
                idem_key=key,
                reason="BYOK migration",
                conn=conn,
            )
            if not applied:
                raise AlreadyClaimed
        return amount

    async def ledger(self, device_id: uuid.UUID) -> list[LedgerEntry]:
        """The device's ledger rows, oldest first."""
        async with self._read() as conn:
            rows = await conn.execute(
                select(ledger).where(ledger.c.device_id == device_id).order_by(ledger.c.id)
            )
            return [
                LedgerEntry(
                    id=r.id,
                    device_id=r.device_id,
                    kind=LedgerKind(r.kind),
                    bucket=Bucket(r.bucket),
                    delta=r.delta,
                    reason=r.reason,
                    created_at=datetime.fromtimestamp(r.created_at, tz=UTC),
                )
                for r in rows
            ]

    # -- the hot path ------------------------------------------------------------------------

    async def admit(
        self,
        device_id: uuid.UUID,
        *,
        credits: int,
        cost_usd: Decimal,
        idempotency_key: str | None,
    ) -> Admission | Replay:
        """Breaker, free top-up, wallet hold and device rate limit in one transaction."""
        if credits < 0 or cost_usd < 0:
            raise ValueError("an estimate cannot be negative")
        if idempotency_key is not None:
            _check_key(idempotency_key)
        now = self._clock.now()
        cost_micro = to_micro(cost_usd)
        if self._fast is not None:
            admitted = await self._admit_fast(device_id, credits, cost_micro, idempotency_key, now)
            if admitted is not None:
                return admitted
        hold_id = new_hold_id()
        week = week_key(now)
        async with self._write() as conn:
            if idempotency_key is not None:
                # A plain read first: a replay is answered whatever the wallet or breaker say.
                replay = await self._stored_answer(conn, device_id, idempotency_key)
                if replay is not None:
                    return replay
            reservation = await self._reserve(conn, week, cost_micro, now)
            cohort_name = await self._hold_credits(conn, device_id, credits, now)
            # Claimed last, as the one-statement path does: one lock order (shard, wallet, key).
            if idempotency_key is not None and not await self._claim_key(
                conn, device_id, idempotency_key, hold_id, now
            ):
                raise IdempotencyInFlight
            await conn.execute(
                insert(holds).values(
                    id=hold_id,
                    device_id=device_id,
                    credits=credits,
                    cost_micro=cost_micro,
                    week=week,
                    shard=reservation.shard,
                    state=HoldState.OPEN.value,
                    idem_key=idempotency_key,
                    device_hash=self._hasher.device_hash(device_id),
                    created_at=int(now.timestamp()),
                    expires_at=int(now.timestamp()) + self._settings.hold_ttl_s,
                )
            )
        return self._admission(
            device_id,
            hold_id,
            credits=credits,
            cost_micro=cost_micro,
            cohort_name=cohort_name,
            reservation=reservation,
        )

    def _admission(
        self,
        device_id: uuid.UUID,
        hold_id: str,
        *,
        credits: int,
        cost_micro: int,
        cohort_name: str,
        reservation: Reservation,
    ) -> Admission:
        cohort = cohort_named(cohort_name, self._settings.cohorts) or assign_cohort(
            device_id, self._settings.cohorts
        )
        degrade = breaker.degraded(reservation, self._settings.degrade_at)
        return Admission(
            hold_id=hold_id,
            credits=credits,
            cost_usd=from_micro(cost_micro),
            cohort=cohort,
            model=self._degrade_model if degrade else cohort.model,
            degraded=degrade and self._degrade_model != cohort.model,
        )

    async def _admit_fast(
        self,
        device_id: uuid.UUID,
        credits: int,
        cost_micro: int,
        key: str | None,
        now: datetime,
    ) -> Admission | None:
        """PostgreSQL's one-statement admit; None when the portable path must decide (anything
        the statement reserved has then been released again)."""
        assert self._fast is not None
        hold_id = new_hold_id()
        shards = self._settings.spend_shards
        params: dict[str, Any] = {
            **breaker.reserve_params(
                week_key(now),
                random.randrange(shards),  # noqa: S311 (spreads load; not a secret)
                cost_micro,
                self._cap_micro,
                shards,
            ),
            **self._hold_params(device_id, credits, now),
            "p_hold": hold_id,
            "p_key": key,
            "p_hash": self._hasher.device_hash(device_id),
            "p_expires": int(now.timestamp()) + self._settings.hold_ttl_s,
        }
        row = (
            await self._batches.admit(params)
            if self._batches is not None
            else await self._run_hot(self._fast_admit, params)
        )
        assert row is not None  # the statement always answers one row
        if row["shard"] is None:
            return None
        if row["cohort"] is None or (key is not None and not row["claimed"]):
            async with self._write() as conn:
                await self._release(conn, hold_id, HoldState.RELEASED)
            return None
        reservation = Reservation(int(row["shard"]), int(row["total"]), int(row["cap"]))
        return self._admission(
            device_id,
            hold_id,
            credits=credits,
            cost_micro=cost_micro,
            cohort_name=row["cohort"],
            reservation=reservation,
        )

    def _hold_params(self, device_id: uuid.UUID, credits: int, now: datetime) -> dict[str, Any]:
        params: dict[str, Any] = {
            "p_device": device_id,
            "p_credits": credits,
            "p_month": month_key(now),
            "p_now_s": int(now.timestamp()),
        }
        if self._device_rate is not None:
            params.update(self._device_rate.params(int(now.timestamp() * MICROS)))
        return params

    async def _stored_answer(
        self, conn: AsyncConnection, device_id: uuid.UUID, key: str
    ) -> Replay | None:
        """The answer stored for ``key``; IdempotencyInFlight while its request still runs."""
        found = (await conn.execute(IDEM_LOOKUP, {"p_device": device_id, "p_key": key})).first()
        if found is None:
            return None
        if found.status is None:
            raise IdempotencyInFlight
        return Replay(int(found.status), bytes(found.body or b""), str(found.content_type or ""))

    async def _claim_key(
        self, conn: AsyncConnection, device_id: uuid.UUID, key: str, hold_id: str, now: datetime
    ) -> bool:
        """Claim ``key`` for this request; False when another request holds it."""
        claimed = await conn.execute(
            self._insert(idempotency)
            .values(device_id=device_id, key=key, hold_id=hold_id, created_at=int(now.timestamp()))
            .on_conflict_do_nothing()
            .returning(idempotency.c.hold_id)
        )
        return claimed.first() is not None

    async def _reserve(
        self, conn: AsyncConnection, week: str, cost_micro: int, now: datetime
    ) -> Reservation:
        """Reserve the estimate on a weekly-spend shard with room, or raise ``BreakerOpen``."""
        shards = self._settings.spend_shards
        params = breaker.reserve_params(
            week,
            random.randrange(shards),  # noqa: S311 (spreads load; not a secret)
            cost_micro,
            self._cap_micro,
            shards,
        )
        row = (await conn.execute(breaker.RESERVE_ON, params)).first()
        if row is None:
            await conn.execute(
                self._insert(weekly_spend).on_conflict_do_nothing(),
                breaker.week_rows(week, shards),
            )
            for _ in range(ROOM_TRIES):
                roomiest = await conn.scalar(breaker.ROOMIEST, params)
                if roomiest is None:
                    break
                row = (
                    await conn.execute(breaker.RESERVE_ON, {**params, "p_shard": roomiest})
                ).first()
                if row is not None:
                    break
            if row is None:
                raise BreakerOpen(week_resets_at(now))
        return Reservation(shard=int(row[0]), total_micro=int(row[1]), cap_micro=int(row[2]))

    async def _hold_credits(
        self, conn: AsyncConnection, device_id: uuid.UUID, credits: int, now: datetime
    ) -> str:
        """Reserve ``credits`` on the wallet and take the device's rate-limit slot; returns the
        device's cohort or raises the reason it could not."""
        params = self._hold_params(device_id, credits, now)
        cohort = await conn.scalar(self._hold, params)
        if cohort is not None:
            return str(cohort)
        row = await self._refreshed(conn, device_id, now)
        if row.frozen:
            raise WalletFrozen
        cohort = await conn.scalar(self._hold, params)
        if cohort is not None:
            return str(cohort)
        available = int(row.balance) - int(row.reserved)
        if available < credits:
            raise InsufficientCredits(available, credits)
        assert self._device_rate is not None  # the only other condition of the hold
        raise RateLimited(
            self._device_rate.retry_after_s(int(row.tat_us), int(now.timestamp() * MICROS))
        )

    async def settle(
        self, hold_id: str, usage: UsageRecord, *, response: Replay | None = None
    ) -> CreditsView:
        """Charge the actual credits (the bucket that expires first first; beyond the hold only
        up to the overdraft), release the rest, record spend and usage; at most once."""
        _check_usage(usage)
        now = self._clock.now()
        if self._fast is not None:
            settled = await self._settle_fast(hold_id, usage, response, now)
            if settled is not None:
                return settled
        async with self._write() as conn:
            hold = (
                await conn.execute(RESOLVE, {"p_hold": hold_id, "p_state": HoldState.SETTLED.value})
            ).first()
            if hold is None:
                return await self._resolved_view(conn, hold_id)
            # Locks are taken in admit's order everywhere: spend shard, then wallet.
            await conn.execute(
                breaker.RESOLVE,
                {
                    "p_week": hold.week,
                    "p_shard": hold.shard,
                    "p_reserved": hold.cost_micro,
                    "p_committed": to_micro(usage.cost_usd),
                },
            )
            row = (await conn.execute(_wallet_query(hold.device_id, lock=True))).one()
            state = WalletState.from_row(row)
            charged = wallet.chargeable(
                usage.credits, int(hold.credits), state.balance, self._settings.overdraft_credits
            )
            reason = wallet.debit_reason(f"{usage.model} ({usage.cohort})", charged, usage.credits)
            after, moves = wallet.debit(state, charged, now, reason)
            await self._record(conn, hold.device_id, moves, f"{hold_id}", now)
            await self._store_state(conn, hold.device_id, after, unreserve=int(hold.credits))
            await conn.execute(
                INSERT_EVENT,
                {
                    "device_hash": hold.device_hash,
                    "week": hold.week,
                    "cohort": usage.cohort,
                    "model": usage.model,
                    "status": usage.status,
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                    "cost_micro": to_micro(usage.cost_usd),
                    "credits": charged,
                    "latency_ms": usage.latency_ms,
                    "ts": int(now.timestamp()),
                },
            )
            if hold.idem_key is not None:
                await self._answer_key(conn, hold.device_id, hold.idem_key, hold_id, response)
            reserved = int(row.reserved) - int(hold.credits)
        return CreditsView(
            device_id=hold.device_id,
            balance=after.balance,
            reserved=reserved,
            available=after.balance - reserved,
            buckets=after.buckets(),
            cohort=row.cohort,
            plan=row.plan,
            frozen=bool(row.frozen),
        )

    async def _settle_fast(
        self, hold_id: str, usage: UsageRecord, response: Replay | None, now: datetime
    ) -> CreditsView | None:
        """PostgreSQL's one-statement settle; None when the hold was not open (the portable
        path then answers with the wallet as it is, or HoldUnknown)."""
        assert self._fast is not None
        params: dict[str, Any] = {
            "p_hold": hold_id,
            "p_state": HoldState.SETTLED.value,
            "p_committed": to_micro(usage.cost_usd),
            "p_actual": usage.credits,
            "p_overdraft": self._settings.overdraft_credits,
            "p_month_end": wallet.month_end(now),
            "p_reason": f"{usage.model} ({usage.cohort})",
            "p_now_s": int(now.timestamp()),
            "cohort": usage.cohort,
            "model": usage.model,
            "status": usage.status,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "latency_ms": usage.latency_ms,
        }
        if response is not None:
            params.update(
                p_status=response.status, p_body=response.body, p_type=response.content_type
            )
        answer = response is not None
        row = (
            await self._batches.settle(answer, params)
            if self._batches is not None
            else await self._run_hot(self._fast_settle[answer], params)
        )
        if row is None:
            return None
        buckets = {
            Bucket.FREE: int(row["free"]),
            Bucket.PURCHASED: int(row["purchased"]),
            Bucket.SUBSCRIPTION: int(row["subscription"]),
        }
        return CreditsView(
            device_id=row["device_id"],
            balance=int(row["balance"]),
            reserved=int(row["reserved"]),
            available=int(row["balance"]) - int(row["reserved"]),
            buckets=buckets,
            cohort=row["cohort"],
            plan=row["plan"],
            frozen=bool(row["frozen"]),
        )

    async def _run_hot(self, statement: hotpath.Prepared, params: dict[str, Any]) -> Any:
        """One hot statement in autocommit through SQLAlchemy (psycopg; asyncpg batches them):
        a row (mapping by column name) or None."""
        assert self._fast is not None
        async with self._fast.connect() as conn:
            row = (await conn.execute(statement.statement, params)).first()
        return None if row is None else row._mapping

    async def _answer_key(
        self,
        conn: AsyncConnection,
        device_id: uuid.UUID,
        key: str,
        hold_id: str,
        response: Replay | None,
    ) -> None:
        owner = {"p_device": device_id, "p_key": key, "p_hold": hold_id}
        if response is None:
            await conn.execute(IDEM_FORGET, owner)
            return
        await conn.execute(
            IDEM_ANSWER,
            {
                **owner,
                "p_status": response.status,
                "p_body": response.body,
                "p_type": response.content_type,
            },
        )

    async def _resolved_view(self, conn: AsyncConnection, hold_id: str) -> CreditsView:
        device_id = await conn.scalar(HOLDER, {"p_hold": hold_id})
        if device_id is None:
            raise HoldUnknown
        row = (await conn.execute(_wallet_query(device_id, lock=False))).one()
        return _view(row)

    async def release(self, hold_id: str) -> None:
        """Release a hold without charging (at most once)."""
        async with self._write() as conn:
            if not await self._release(conn, hold_id, HoldState.RELEASED):
                await self._resolved_view(conn, hold_id)

    async def _release(self, conn: AsyncConnection, hold_id: str, state: HoldState) -> bool:
        """Give a hold's credits and estimate back; False when it was already resolved."""
        hold = (await conn.execute(RESOLVE, {"p_hold": hold_id, "p_state": state.value})).first()
        if hold is None:
            return False
        await conn.execute(
            breaker.RESOLVE,
            {
                "p_week": hold.week,
                "p_shard": hold.shard,
                "p_reserved": hold.cost_micro,
                "p_committed": 0,
            },
        )
        await conn.execute(
            wallet.UNRESERVE, {"p_device": hold.device_id, "p_credits": hold.credits}
        )
        if hold.idem_key is not None:
            await conn.execute(
                IDEM_FORGET, {"p_device": hold.device_id, "p_key": hold.idem_key, "p_hold": hold_id}
            )
        return True

    async def expire_holds(self) -> int:
        """Release every open hold past its TTL (the release path); returns how many."""
        now_s = int(self._clock.now().timestamp())
        expired = 0
        while True:
            async with self._write() as conn:
                ids = (
                    await conn.scalars(EXPIRED, {"p_now_s": now_s, "p_limit": EXPIRE_BATCH})
                ).all()
                for hold_id in ids:
                    expired += await self._release(conn, hold_id, HoldState.EXPIRED)
            if len(ids) < EXPIRE_BATCH:
                return expired

    # -- the weekly cap, stats and upkeep ----------------------------------------------------

    async def set_weekly_cap(self, usd: Decimal) -> None:
        """Set the global weekly cap (shared by every instance, effective at once)."""
        if usd < 0:
            raise ValueError("the weekly cap cannot be negative")
        value = str(to_micro(usd))
        async with self._write() as conn:
            await conn.execute(
                self._insert(settings)
                .values(key=WEEKLY_CAP_KEY, value=value)
                .on_conflict_do_update(index_elements=[settings.c.key], set_={"value": value})
            )

    async def weekly_spend(self) -> WeeklySpend:
        """This ISO week's committed and reserved spend and the cap."""
        week = week_key(self._clock.now())
        async with self._read() as conn:
            row = (
                await conn.execute(
                    breaker.TOTALS, {"p_week": week, "p_default_cap": self._cap_micro}
                )
            ).one()
        return WeeklySpend(week, from_micro(row[0]), from_micro(row[1]), from_micro(row[2]))

    async def stats(self) -> Stats:
        """Totals for the admin CLI."""
        weekly = await self.weekly_spend()
        async with self._read() as conn:
            count_devices = await conn.scalar(select(func.count()).select_from(devices))
            open_holds = await conn.scalar(
                select(func.count()).where(holds.c.state == HoldState.OPEN.value)
            )
            outstanding = await conn.scalar(select(func.coalesce(func.sum(wallets.c.balance), 0)))
            debited = await conn.scalar(
                select(func.coalesce(-func.sum(ledger.c.delta), 0)).where(
                    ledger.c.kind == LedgerKind.DEBIT.value
                )
            )
            events = await conn.scalar(select(func.count()).select_from(usage_events))
            cohorts = await conn.execute(
                select(devices.c.cohort, func.count()).group_by(devices.c.cohort)
            )
            by_cohort = {str(name): int(n) for name, n in cohorts}
        return Stats(
            devices=int(count_devices or 0),
            open_holds=int(open_holds or 0),
            credits_outstanding=int(outstanding or 0),
            credits_debited=int(debited or 0),
            usage_events=int(events or 0),
            weekly=weekly,
            cohorts=by_cohort,
        )

    async def prune_usage(self, days: int = 30) -> int:
        """Delete raw usage events older than ``days`` (weekly aggregates are kept)."""
        if days < 0:
            raise ValueError("days cannot be negative")
        before = int(self._clock.now().timestamp()) - days * 86_400
        async with self._write() as conn:
            return await prune(conn, before)

    async def check_invariants(self) -> list[str]:
        """Every wallet whose balance or reserved disagrees with the ledger or open holds, and
        every week whose reserved spend disagrees with its open holds (empty: all agree)."""
        async with self._snapshot() as conn:
            return await audit.invariant_problems(conn)


def _cheapest(cohorts: tuple[Cohort, ...]) -> str:
    """The cohort model with the lowest list price on the rate card (unpriced models last)."""
    card = load_rate_card()

    def price(cohort: Cohort) -> tuple[int, Decimal]:
        found = card.price(cohort.model)
        return (1, Decimal(0)) if found is None else (0, found.input + found.output)

    return min(cohorts, key=price).model


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValueError(f"an idempotency key needs 1 to {MAX_IDEMPOTENCY_KEY} characters")


def _check_usage(usage: UsageRecord) -> None:
    if min(usage.prompt_tokens, usage.completion_tokens, usage.credits, usage.latency_ms) < 0:
        raise ValueError("usage counts cannot be negative")
    if usage.cost_usd < 0:
        raise ValueError("a cost cannot be negative")
    if usage.status not in USAGE_STATUSES:
        raise ValueError(f"unknown usage status {usage.status!r}")
