"""Auto-reload: when a debit takes an opted-in wallet below the rate card's
``balance.auto_reload_below``, charge its saved card off-session for a Starter pack.

Exactly once per crossing: a reload row with a unique ``(device, seq)`` is claimed in a
transaction before Stripe is called, and no new one starts while one is open; its key is the
Stripe Idempotency-Key, so a retried call charges once. Credits arrive only with the
``payment_intent.succeeded`` webhook. ``authentication_required`` turns auto-reload off (the user
must pay on-session); other declines back off (doubling) and stop after ``MAX_DECLINES`` a day;
``reloads_per_month`` caps the charges; Pro wallets are never auto-charged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud.billing import records, tables
from promptready.cloud.billing.catalog import RELOAD_PACK, find_pack, pack_price
from promptready.cloud.billing.context import Context, Outcome
from promptready.cloud.billing.deps import BillingDeps
from promptready.cloud.billing.stripe_objects import PaymentIntent
from promptready.cloud.store import Bucket

AUTHENTICATION_REQUIRED = "authentication_required"
MAX_DECLINES = 3
DAY_S = 86_400
RETRY_PENDING_S = 60  # a claimed reload whose Stripe call never answered is retried, same key
_OPEN = ("pending", "charged")
_COUNTED = ("pending", "charged", "succeeded")
_DECLINED = "The automatic top-up was declined; it will try again later, or buy a pack now."


class ReloadStatus:
    """The states of a reload row."""

    PENDING = "pending"  # claimed; Stripe not (yet) answered
    CHARGED = "charged"  # Stripe accepted; the webhook credits it
    SUCCEEDED = "succeeded"  # credited
    DECLINED = "declined"  # the card was declined (backs off)
    STOPPED = "stopped"  # authentication required or no saved card: auto-reload turned off


@dataclass(frozen=True)
class AutoReload:
    """A wallet's auto-reload switch as the user sees it."""

    enabled: bool
    off_reason: str | None
    has_payment_method: bool


@dataclass(frozen=True)
class _Claim:
    key: str
    customer: str


async def state(deps: BillingDeps, device_id: uuid.UUID) -> AutoReload:
    """The wallet's auto-reload switch."""

    async def read(conn: AsyncConnection) -> AutoReload:
        found = await records.account(conn, device_id)
        if found is None:
            return AutoReload(False, None, False)
        paid = await records.has_paid(conn, device_id)
        return AutoReload(found.auto_reload, found.auto_reload_off_reason, paid)

    return await records.once(deps.store, read)


async def switch(deps: BillingDeps, device_id: uuid.UUID, enabled: bool) -> AutoReload:
    """Turn auto-reload on or off (turning it on clears the reason it was turned off)."""

    async def write(conn: AsyncConnection) -> None:
        await records.update_account(
            conn, device_id, auto_reload=enabled, auto_reload_off_reason=None
        )

    await records.once(deps.store, write)
    return await state(deps, device_id)


async def maybe_reload(deps: BillingDeps, device_id: uuid.UUID, balance: int) -> str | None:
    """Call after a debit settles with the wallet's new balance: starts at most one off-session
    charge per crossing below the threshold; returns its reload key when one was charged."""
    if not deps.card.auto_reload_due(balance):
        return None
    device = await deps.store.device(device_id)
    if device is None or device.plan == "pro" or device.frozen:
        return None  # Pro is never auto-charged; a frozen (disputed) wallet neither
    now = deps.now()
    claim = await records.once(deps.store, lambda conn: _claim(deps, conn, device_id, now))
    if claim is None:
        return None
    pack = pack_price(find_pack(deps.card, RELOAD_PACK), deps.settings.currency)
    method = await deps.stripe.saved_payment_method(claim.customer)
    if method is None:
        await _finish(deps, claim.key, ReloadStatus.STOPPED, None, "no_payment_method")
        return None
    result = await deps.stripe.charge_off_session(
        customer=claim.customer,
        payment_method=method,
        pack=pack,
        device_id=device_id,
        reload_key=claim.key,
    )
    if result.succeeded:
        deps.metrics.reloads.labels("charged").inc()
        await _finish(deps, claim.key, ReloadStatus.CHARGED, result.payment_intent, None)
        return claim.key
    stopped = result.error_code == AUTHENTICATION_REQUIRED
    deps.metrics.reloads.labels("authentication" if stopped else "declined").inc()
    status = ReloadStatus.STOPPED if stopped else ReloadStatus.DECLINED
    await _finish(deps, claim.key, status, result.payment_intent, result.error_code)
    return None


async def _claim(
    deps: BillingDeps, conn: AsyncConnection, device_id: uuid.UUID, now: int
) -> _Claim | None:
    """The reload to charge now, or None: off, no card, one already open, capped, backing off."""
    # The account's row lock makes concurrent crossings of one wallet take turns, so the
    # second sees the first's open reload (READ COMMITTED alone would let both insert one).
    found = await records.account(conn, device_id, lock=True)
    if found is None or not found.auto_reload or found.customer is None:
        return None
    rows = (
        await conn.execute(
            select(tables.reloads)
            .where(tables.reloads.c.device_id == device_id)
            .order_by(tables.reloads.c.seq.desc())
            .limit(50)
        )
    ).all()
    latest = rows[0] if rows else None
    if latest is not None and latest.status in _OPEN:
        stale = latest.status == ReloadStatus.PENDING and now - latest.created_at >= RETRY_PENDING_S
        return _Claim(latest.key, found.customer) if stale else None
    month = _month_start(now)
    if sum(1 for r in rows if r.status in _COUNTED and r.created_at >= month) >= (
        deps.settings.reloads_per_month
    ):
        return None
    declines = [r for r in rows if r.status == ReloadStatus.DECLINED and r.created_at > now - DAY_S]
    if len(declines) >= MAX_DECLINES:
        return None
    if latest is not None and latest.status == ReloadStatus.DECLINED:
        streak = next(
            (i for i, r in enumerate(rows) if r.status != ReloadStatus.DECLINED), len(rows)
        )
        if now < latest.created_at + deps.settings.reload_backoff_s * 2 ** (streak - 1):
            return None
    seq = (
        int(
            await conn.scalar(
                select(func.coalesce(func.max(tables.reloads.c.seq), 0)).where(
                    tables.reloads.c.device_id == device_id
                )
            )
            or 0
        )
        + 1
    )
    key = reload_key(device_id, seq)
    await conn.execute(
        insert(tables.reloads).values(
            key=key, device_id=device_id, seq=seq, status=ReloadStatus.PENDING, created_at=now
        )
    )
    return _Claim(key, found.customer)


def reload_key(device_id: uuid.UUID, seq: int) -> str:
    """The reload row's key, which is also the Stripe Idempotency-Key of its charge."""
    return f"reload:{device_id}:{seq}"


async def _finish(
    deps: BillingDeps, key: str, status: str, intent: str | None, code: str | None
) -> None:
    """Record what Stripe answered (a webhook that already settled the row wins)."""

    async def write(conn: AsyncConnection) -> None:
        device_id = await conn.scalar(
            select(tables.reloads.c.device_id).where(
                tables.reloads.c.key == key, tables.reloads.c.status.in_(_OPEN)
            )
        )
        if device_id is None:
            return
        await _set_status(conn, key, status, intent, code)
        if status == ReloadStatus.STOPPED:
            await _stop(conn, device_id, code or "declined", deps.now())
        elif status == ReloadStatus.DECLINED:
            await records.notify(conn, device_id, "auto_reload_declined", _DECLINED, deps.now())

    await records.once(deps.store, write)


async def _set_status(
    conn: AsyncConnection, key: str, status: str, intent: str | None, code: str | None
) -> None:
    values: dict[str, object] = {"status": status, "error_code": code}
    if intent is not None:
        values["payment_intent"] = intent
    await conn.execute(
        update(tables.reloads)
        .where(tables.reloads.c.key == key, tables.reloads.c.status.in_(_OPEN))
        .values(**values)
    )


async def _stop(conn: AsyncConnection, device_id: uuid.UUID, code: str, now: int) -> None:
    """Turn auto-reload off and tell the user why and what to do."""
    reason = (
        "Your bank asked to confirm the automatic top-up; buy a pack once to confirm your card, "
        "then turn auto-reload on again."
        if code == AUTHENTICATION_REQUIRED
        else "No saved card was found for the automatic top-up; buy a pack to save one."
    )
    await records.update_account(conn, device_id, auto_reload=False, auto_reload_off_reason=reason)
    await records.notify(conn, device_id, "auto_reload_off", reason, now)


async def credit(ctx: Context, intent: PaymentIntent) -> Outcome:
    """``payment_intent.succeeded`` for a reload: grant the Starter pack, keyed by the intent."""
    key = f"reload:{intent.id}"
    if await records.payment(ctx.conn, key) is not None:
        return Outcome.REPLAYED
    if intent.device_id is None or not await ctx.known(intent.device_id):
        return await ctx.flag(intent.id, "the reload names no registered device")
    pack = find_pack(ctx.deps.card, RELOAD_PACK)
    price = pack_price(pack, ctx.deps.settings.currency)
    if intent.amount != price.amount or intent.currency != price.currency:
        return await ctx.flag(
            intent.id, f"the reload charged {intent.amount} {intent.currency}, not {price.amount}"
        )
    paid = records.Payment(
        key=key,
        device_id=intent.device_id,
        kind="reload",
        pack=pack.name,
        credits=pack.credits,
        amount=intent.amount,
        currency=intent.currency,
        payment_intent=intent.id,
        created_at=ctx.now,
    )
    await ctx.grant_payment(paid, Bucket.PURCHASED, f"auto-reload ({pack.name} pack)")
    if intent.reload_key:
        await ctx.conn.execute(
            update(tables.reloads)
            .where(tables.reloads.c.key == intent.reload_key)
            .values(status=ReloadStatus.SUCCEEDED, payment_intent=intent.id)
        )
    return Outcome.APPLIED


async def failed(ctx: Context, intent: PaymentIntent) -> Outcome:
    """``payment_intent.payment_failed`` for a reload: stop on authentication, else back off."""
    if intent.reload_key is None or intent.device_id is None:
        return Outcome.IGNORED
    current = await ctx.conn.scalar(
        select(tables.reloads.c.status).where(tables.reloads.c.key == intent.reload_key)
    )
    if current not in _OPEN:
        return Outcome.REPLAYED  # the charge's own answer already recorded this failure
    stopped = intent.error_code == AUTHENTICATION_REQUIRED
    status = ReloadStatus.STOPPED if stopped else ReloadStatus.DECLINED
    await _set_status(ctx.conn, intent.reload_key, status, intent.id, intent.error_code)
    if stopped:
        await _stop(ctx.conn, intent.device_id, AUTHENTICATION_REQUIRED, ctx.now)
    else:
        await ctx.notify(intent.device_id, "auto_reload_declined", _DECLINED)
    return Outcome.APPLIED


def _month_start(now: int) -> int:
    at = datetime.fromtimestamp(now, UTC)
    return int(at.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp())
