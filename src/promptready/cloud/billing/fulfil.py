"""Fulfilling a paid Checkout Session exactly once, whoever reports it first: the
``checkout.session.completed`` or ``async_payment_succeeded`` webhook, or the success page's poll.

The payment row (keyed ``checkout:<session>``) and the grant (same idempotency key) are written in
one transaction, so the second reporter finds the row and changes nothing (Stripe's fulfilment
recipe: safe to call many times, checks ``payment_status``, records the fulfilment).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud.billing import records
from promptready.cloud.billing.catalog import UnknownPackError, find_pack, minor_units
from promptready.cloud.billing.context import Context, Outcome
from promptready.cloud.billing.deps import BillingDeps
from promptready.cloud.billing.stripe_objects import CheckoutSession
from promptready.cloud.store import Bucket
from promptready.pricing import CreditPack, RateCard


def session_key(session_id: str) -> str:
    """The one key of a Checkout payment, on its payment row and its ledger grant."""
    return f"checkout:{session_id}"


def pack_mismatch(
    card: RateCard, currency: str, session: CheckoutSession
) -> tuple[CreditPack | None, str | None]:
    """The pack a paid session bought, or why it must not be granted (pure)."""
    try:
        pack = find_pack(card, session.pack or "")
    except UnknownPackError:
        return None, f"the session names no known pack ({session.pack!r})"
    expected = minor_units(pack.price_usd)
    if session.amount_total != expected or session.currency != currency:
        return None, (
            f"the session charged {session.amount_total} {session.currency}, the {pack.name} "
            f"pack costs {expected} {currency}"
        )
    return pack, None


async def fulfil_pack(ctx: Context, session: CheckoutSession) -> Outcome:
    """Grant the session's pack if it is paid, matches the rate card and was not granted yet."""
    key = session_key(session.id)
    if await records.payment(ctx.conn, key) is not None:
        return Outcome.REPLAYED
    if not session.paid:
        return Outcome.PENDING  # a delayed payment method: async_payment_succeeded follows
    if session.device_id is None or not await ctx.known(session.device_id):
        return await ctx.flag(session.id, "the session names no registered device")
    pack, problem = pack_mismatch(ctx.deps.card, ctx.deps.settings.currency, session)
    if pack is None:
        return await ctx.flag(session.id, problem or "no pack")
    paid = records.Payment(
        key=key,
        device_id=session.device_id,
        kind="pack",
        pack=pack.name,
        credits=pack.credits,
        amount=session.amount_total or 0,
        currency=session.currency or "",
        payment_intent=session.payment_intent,
        created_at=ctx.now,
    )
    await ctx.grant_payment(paid, Bucket.PURCHASED, f"{pack.name} pack")
    known = await records.account(ctx.conn, session.device_id)
    if session.customer is not None and (known is None or known.customer != session.customer):
        await records.update_account(ctx.conn, session.device_id, customer=session.customer)
    return Outcome.APPLIED


async def fulfil_polled(deps: BillingDeps, session: CheckoutSession) -> Outcome:
    """The success page's confirmation: the same fulfilment as the webhook, for a session just
    read from Stripe. A mismatch is not flagged here (the webhook flags it once)."""

    async def work(conn: AsyncConnection) -> Outcome:
        if session.mode == "subscription":  # Pro's credits come with its invoice's webhook
            found = await records.account(conn, session.device_id) if session.device_id else None
            linked = found is not None and found.subscription == session.subscription
            return Outcome.REPLAYED if linked and session.subscription else Outcome.PENDING
        ctx = Context(deps, conn, deps.now(), f"poll:{session.id}")
        if await records.payment(conn, session_key(session.id)) is not None:
            return Outcome.REPLAYED
        if not session.paid:
            return Outcome.PENDING
        _, problem = pack_mismatch(deps.card, deps.settings.currency, session)
        if problem is None and await ctx.known(session.device_id):
            return await fulfil_pack(ctx, session)
        return Outcome.REVIEW

    return await records.once(deps.store, work)
