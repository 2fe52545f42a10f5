"""Reads and writes of billing's own rows, always on a connection the caller's transaction owns,
so a row and the credit movement it explains commit or roll back together."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud.billing import tables
from promptready.cloud.store import Store

_T = TypeVar("_T")
_RETRIES = 3
_TRANSIENT = {"40001", "40P01"}  # serialization_failure, deadlock_detected


async def once(store: Store, work: Callable[[AsyncConnection], Awaitable[_T]]) -> _T:
    """Run ``work`` in one store transaction. A unique-key clash means a concurrent writer
    applied the same key first: the transaction rolled back whole, and the retry sees its row.
    A PostgreSQL deadlock or serialization failure (two effects on one wallet taking their
    row locks in another order) rolled back whole too, and is retried the same way."""
    for attempt in range(_RETRIES):
        try:
            async with store.transaction() as conn:
                return await work(conn)
        except DBAPIError as error:
            retry = isinstance(error, IntegrityError) or _sqlstate(error) in _TRANSIENT
            if not retry or attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _sqlstate(error: DBAPIError) -> str | None:
    """The SQLSTATE a PostgreSQL driver reports (asyncpg and psycopg both name it so)."""
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code if isinstance(code, str) else None


@dataclass(frozen=True)
class Account:
    """A device's billing row."""

    device_id: uuid.UUID
    customer: str | None
    auto_reload: bool
    auto_reload_off_reason: str | None
    subscription: str | None
    pro_ends_at: int | None


@dataclass(frozen=True)
class Notice:
    """Something the user should know about a payment."""

    kind: str
    message: str
    created_at: int


@dataclass(frozen=True)
class Payment:
    """A payment that granted credits."""

    key: str
    device_id: uuid.UUID
    kind: str
    pack: str
    credits: int
    amount: int
    currency: str
    payment_intent: str | None
    created_at: int


# Events


async def event_seen(conn: AsyncConnection, event_id: str) -> bool:
    """Whether the event was already applied."""
    found = await conn.scalar(
        select(tables.events.c.event_id).where(tables.events.c.event_id == event_id)
    )
    return found is not None


async def record_event(conn: AsyncConnection, event_id: str, type_: str, now: int) -> None:
    """Mark the event applied (a concurrent duplicate fails here, on the primary key)."""
    await conn.execute(insert(tables.events).values(event_id=event_id, type=type_, received_at=now))


# Accounts


async def account(
    conn: AsyncConnection, device_id: uuid.UUID, *, lock: bool = False
) -> Account | None:
    """The device's billing row, None before its first billing action; ``lock`` holds its row
    lock until the transaction ends (PostgreSQL; SQLite's write transaction already excludes)."""
    query = select(tables.accounts).where(tables.accounts.c.device_id == device_id)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    return None if row is None else Account(**row._asdict())


async def customer(store: Store, device_id: uuid.UUID) -> str | None:
    """The device's Stripe customer, None before its first checkout."""

    async def read(conn: AsyncConnection) -> str | None:
        found = await account(conn, device_id)
        return None if found is None else found.customer

    return await once(store, read)


async def has_paid(conn: AsyncConnection, device_id: uuid.UUID) -> bool:
    """Whether a payment of the device went through (so Stripe has its card)."""
    found = await conn.scalar(
        select(tables.payments.c.key).where(tables.payments.c.device_id == device_id).limit(1)
    )
    return found is not None


async def account_by_customer(conn: AsyncConnection, customer: str) -> Account | None:
    """The billing row of a Stripe customer."""
    row = (
        await conn.execute(select(tables.accounts).where(tables.accounts.c.customer == customer))
    ).first()
    return None if row is None else Account(**row._asdict())


async def update_account(conn: AsyncConnection, device_id: uuid.UUID, **values: object) -> None:
    """Create the device's billing row if needed and set ``values`` on it."""
    if await account(conn, device_id) is None:
        await conn.execute(insert(tables.accounts).values(device_id=device_id, auto_reload=False))
    await conn.execute(
        update(tables.accounts).where(tables.accounts.c.device_id == device_id).values(**values)
    )


async def lapsed_plans(conn: AsyncConnection, now: int) -> list[uuid.UUID]:
    """Devices whose cancelled Pro plan has reached its period end."""
    rows = await conn.execute(
        select(tables.accounts.c.device_id)
        .where(tables.accounts.c.pro_ends_at <= now)
        .order_by(tables.accounts.c.device_id)  # racing sweeps lock rows in one order
    )
    return [r.device_id for r in rows]


async def claim_plan_end(conn: AsyncConnection, device_id: uuid.UUID, now: int) -> bool:
    """Clear the device's planned Pro end if it is due; False when another instance (or a new
    subscription) already cleared it. The conditional UPDATE takes the row lock and re-checks
    the end under it, so racing sweeps end each plan exactly once."""
    done = await conn.execute(
        update(tables.accounts)
        .where(
            tables.accounts.c.device_id == device_id,
            tables.accounts.c.pro_ends_at.is_not(None),
            tables.accounts.c.pro_ends_at <= now,
        )
        .values(pro_ends_at=None)
    )
    return bool(done.rowcount == 1)


# Payments and clawbacks


async def payment(conn: AsyncConnection, key: str) -> Payment | None:
    """The payment recorded under ``key``."""
    row = (await conn.execute(select(tables.payments).where(tables.payments.c.key == key))).first()
    return None if row is None else Payment(**row._asdict())


async def payment_by_intent(conn: AsyncConnection, intent: str) -> Payment | None:
    """The payment made through the PaymentIntent ``intent``."""
    row = (
        await conn.execute(
            select(tables.payments).where(tables.payments.c.payment_intent == intent)
        )
    ).first()
    return None if row is None else Payment(**row._asdict())


async def record_payment(conn: AsyncConnection, paid: Payment) -> None:
    """Record a granted payment (a second writer of the same key fails on the primary key)."""
    await conn.execute(insert(tables.payments).values(**paid.__dict__))


async def clawed(conn: AsyncConnection, payment_key: str) -> tuple[int, int]:
    """Amount and credits already clawed back from a payment."""
    row = (
        await conn.execute(
            select(
                func.coalesce(func.sum(tables.clawbacks.c.amount), 0),
                func.coalesce(func.sum(tables.clawbacks.c.credits), 0),
            ).where(tables.clawbacks.c.payment_key == payment_key)
        )
    ).one()
    return int(row[0]), int(row[1])


async def clawback_exists(conn: AsyncConnection, key: str) -> bool:
    """Whether the clawback ``key`` (a refund level or a dispute) was applied."""
    found = await conn.scalar(select(tables.clawbacks.c.key).where(tables.clawbacks.c.key == key))
    return found is not None


async def record_clawback(
    conn: AsyncConnection, key: str, paid: Payment, *, amount: int, credits: int, now: int
) -> None:
    """Record a refund or lost dispute taken back from ``paid``."""
    await conn.execute(
        insert(tables.clawbacks).values(
            key=key,
            payment_key=paid.key,
            device_id=paid.device_id,
            amount=amount,
            credits=credits,
            created_at=now,
        )
    )


# Notices and reviews


async def notify(
    conn: AsyncConnection, device_id: uuid.UUID, kind: str, message: str, now: int
) -> None:
    """Tell the user something about a payment (shown by ``GET /api/v1/billing/status``)."""
    await conn.execute(
        insert(tables.notices).values(
            device_id=device_id, kind=kind, message=message, created_at=now
        )
    )


async def recent_notices(conn: AsyncConnection, device_id: uuid.UUID, limit: int) -> list[Notice]:
    """The device's newest notices, newest first."""
    rows = await conn.execute(
        select(tables.notices.c.kind, tables.notices.c.message, tables.notices.c.created_at)
        .where(tables.notices.c.device_id == device_id)
        .order_by(tables.notices.c.id.desc())
        .limit(limit)
    )
    return [Notice(r.kind, r.message, r.created_at) for r in rows]


async def flag(conn: AsyncConnection, event_id: str, object_id: str, reason: str, now: int) -> None:
    """Put a payment that granted nothing in front of a person."""
    await conn.execute(
        insert(tables.reviews).values(
            event_id=event_id, object_id=object_id, reason=reason, created_at=now
        )
    )
