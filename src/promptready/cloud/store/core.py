"""The store's shared state and transactions: engines (and PostgreSQL's hot pool and batches),
settings, clock; ``_write`` (BEGIN IMMEDIATE on SQLite, one writer per process), ``_read``,
``_snapshot``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from typing import Self

from sqlalchemy import BigInteger, bindparam
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from promptready.cloud import hotbatch, hotpath, wallet
from promptready.cloud.breaker import to_micro
from promptready.cloud.clock import Clock, SystemClock
from promptready.cloud.cohorts import Cohort
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
from promptready.cloud.ratelimit import Gcra, advanced, allows
from promptready.cloud.records import StoreSettings
from promptready.cloud.schema import rate_limits
from promptready.cloud.store.checks import check_settings
from promptready.cloud.usage import UsageHasher
from promptready.pricing import load_rate_card


class StoreCore:
    """What every part of the store shares: the engines and pools, the settings, the clock and
    the transaction helpers (one per process, through ``Store``)."""

    def __init__(
        self,
        engine: AsyncEngine,
        db: DatabaseUrl,
        config: StoreSettings,
        clock: Clock,
        free_month_credits: int,
    ) -> None:
        check_settings(config)
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
        self._fast_settle = hotpath.Prepared(hotpath.settle_statement(batched=False))
        # The two hot statements skip SQLAlchemy on asyncpg: directly they cost a fraction of
        # the CPU (bench/cloud_bench.py); on psycopg they run through the engine above.
        # Concurrent admits and settles of this process share transactions (group commit),
        # each kind on a connection of its own.
        self._batches = (
            hotbatch.HotBatches(
                (self._hot_link(db, config), self._hot_link(db, config)),
                self._fast_admit,
                (self._fast_settle, hotpath.Prepared(hotpath.settle_statement(batched=True))),
            )
            if db.dialect is Dialect.POSTGRESQL and db.url.drivername.endswith(Driver.ASYNCPG)
            else None
        )
        self._cap_micro = to_micro(config.weekly_cap_usd)
        self._degrade_model = config.degrade_model or cheapest(config.cohorts)
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

    @staticmethod
    def _hot_link(db: DatabaseUrl, config: StoreSettings) -> hotpath.HotLink:
        dsn = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return hotpath.HotLink(dsn, synchronous_commit=config.durable_hot_path)

    @classmethod
    async def open(cls, url: str, settings: StoreSettings, clock: Clock | None = None) -> Self:
        """Connect (pooled) to ``url``; the schema is not touched until ``ensure_schema``."""
        db = parse_database_url(url)
        free = load_rate_card().plans["free"].credits_month
        # On PostgreSQL the hot path has its own connections; this pool serves the rest.
        pool = 4 if db.dialect is Dialect.POSTGRESQL else 16
        return cls(create_engine(db, pool_size=pool), db, settings, clock or SystemClock(), free)

    async def close(self) -> None:
        """Dispose of the pools."""
        await self._engine.dispose()
        if self._fast is not None:
            await self._fast.dispose()
        if self._batches is not None:
            await self._batches.close()

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


def cheapest(cohorts: tuple[Cohort, ...]) -> str:
    """The cohort model with the lowest list price on the rate card (unpriced models last)."""
    card = load_rate_card()

    def price(cohort: Cohort) -> tuple[int, Decimal]:
        found = card.price(cohort.model)
        return (1, Decimal(0)) if found is None else (0, found.input + found.output)

    return min(cohorts, key=price).model
