"""What each Stripe event does, inside the transaction that also records the event id.

Every credit movement carries an idempotency key derived from what Stripe calls the payment, so
a different event (or a poll) reporting the same payment moves nothing twice. A payment that does
not match the rate card, or names no device, grants nothing and is flagged for review.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import select

from promptready.cloud import schema
from promptready.cloud.billing import autoreload, records
from promptready.cloud.billing.catalog import plan_price, pro_plan, rollover_cap
from promptready.cloud.billing.context import Context, Outcome
from promptready.cloud.billing.fulfil import fulfil_pack
from promptready.cloud.billing.stripe_objects import (
    KIND_RELOAD,
    Event,
    parse_charge,
    parse_dispute,
    parse_invoice,
    parse_payment_intent,
    parse_session,
    parse_subscription,
)
from promptready.cloud.store import Bucket

Handler = Callable[[Context, Event], Awaitable[Outcome]]


class PaymentNotYetKnownError(Exception):
    """A refund or dispute for a payment billing has not recorded: Stripe does not keep events
    in order, so the event is refused (nothing kept) and Stripe's retry applies it later."""

    def __init__(self, charge_id: str) -> None:
        super().__init__(f"the charge {charge_id} matches no payment recorded yet")


def refund_share(credits: int, amount: int, refunded: int) -> int:
    """Credits that ``refunded`` of ``amount`` stands for, rounded half up; deltas between two
    cumulative levels telescope, so partial refunds always add up to the full pack."""
    if amount <= 0:
        return 0
    return (2 * credits * min(refunded, amount) + amount) // (2 * amount)


async def on_session_paid(ctx: Context, event: Event) -> Outcome:
    """``checkout.session.completed`` / ``async_payment_succeeded``: grant a paid pack; for Pro,
    link the subscription (its credits come with ``invoice.paid``)."""
    session = parse_session(event.obj)
    if session.mode != "subscription":
        return await fulfil_pack(ctx, session)
    if session.device_id is None or not await ctx.known(session.device_id):
        return await ctx.flag(session.id, "the Pro session names no registered device")
    await _link_subscription(ctx, session.device_id, session.customer, session.subscription)
    return Outcome.APPLIED


async def on_session_failed(ctx: Context, event: Event) -> Outcome:
    """``checkout.session.async_payment_failed``: no credits; the user is told."""
    session = parse_session(event.obj)
    if session.device_id is None or not await ctx.known(session.device_id):
        return Outcome.IGNORED
    await ctx.notify(
        session.device_id,
        "payment_failed",
        f"The payment for the {session.pack or 'credit'} pack did not go through, so no credits "
        "were added; try again with another payment method.",
    )
    return Outcome.APPLIED


async def on_intent_succeeded(ctx: Context, event: Event) -> Outcome:
    """``payment_intent.succeeded``: credits an auto-reload (Checkout payments are credited by
    their session events instead)."""
    intent = parse_payment_intent(event.obj)
    if intent.kind != KIND_RELOAD:
        return Outcome.IGNORED
    return await autoreload.credit(ctx, intent)


async def on_intent_failed(ctx: Context, event: Event) -> Outcome:
    """``payment_intent.payment_failed``: recorded and shown; an auto-reload backs off or stops."""
    intent = parse_payment_intent(event.obj)
    if intent.kind == KIND_RELOAD:
        return await autoreload.failed(ctx, intent)
    if intent.device_id is None or not await ctx.known(intent.device_id):
        return Outcome.IGNORED
    await ctx.notify(
        intent.device_id,
        "payment_failed",
        "A card payment was declined, so no credits were added; try another payment method.",
    )
    return Outcome.APPLIED


async def on_refund(ctx: Context, event: Event) -> Outcome:
    """``charge.refunded``: take back the refunded share, by the delta of ``amount_refunded``
    (cumulative) from ``previous_attributes``; the wallet may go into debt."""
    charge = parse_charge(event.obj)
    paid = await _payment(ctx, charge.payment_intent)
    if paid is None:
        raise PaymentNotYetKnownError(charge.id)
    key = f"refund:{charge.id}:{charge.amount_refunded}"
    if await records.clawback_exists(ctx.conn, key):
        return Outcome.REPLAYED
    taken_amount, taken_credits = await records.clawed(ctx.conn, paid.key)
    previous = event.previous.get("amount_refunded")
    before = previous if isinstance(previous, int) and previous >= 0 else taken_amount
    amount = max(0, charge.amount_refunded - before)
    credits = refund_share(paid.credits, charge.amount, charge.amount_refunded)
    credits -= refund_share(paid.credits, charge.amount, before)
    credits = max(0, min(credits, paid.credits - taken_credits))
    await ctx.take_back(
        paid, key, credits=credits, amount=amount, reason=f"refund of the {paid.pack} payment"
    )
    return Outcome.APPLIED


async def on_dispute_created(ctx: Context, event: Event) -> Outcome:
    """``charge.dispute.created``: freeze the wallet until the dispute closes."""
    dispute = parse_dispute(event.obj)
    paid = await _payment(ctx, dispute.payment_intent)
    if paid is None:
        raise PaymentNotYetKnownError(dispute.charge)
    await ctx.deps.store.set_frozen(paid.device_id, True, conn=ctx.conn)
    await ctx.notify(
        paid.device_id,
        "disputed",
        "A payment of yours is disputed, so this wallet is frozen until the dispute is settled.",
    )
    return Outcome.APPLIED


async def on_dispute_closed(ctx: Context, event: Event) -> Outcome:
    """``charge.dispute.closed``: won unfreezes; lost takes back what was not refunded, once."""
    dispute = parse_dispute(event.obj)
    paid = await _payment(ctx, dispute.payment_intent)
    if paid is None:
        raise PaymentNotYetKnownError(dispute.charge)
    if dispute.status == "won":
        await ctx.deps.store.set_frozen(paid.device_id, False, conn=ctx.conn)
        return Outcome.APPLIED
    if dispute.status != "lost":
        return Outcome.IGNORED
    key = f"dispute:{dispute.id}"
    if await records.clawback_exists(ctx.conn, key):
        return Outcome.REPLAYED
    taken_amount, taken_credits = await records.clawed(ctx.conn, paid.key)
    await ctx.take_back(
        paid,
        key,
        credits=paid.credits - taken_credits,
        amount=max(0, min(dispute.amount, paid.amount - taken_amount)),
        reason=f"lost dispute on the {paid.pack} payment",
    )
    return Outcome.APPLIED


async def on_invoice_paid(ctx: Context, event: Event) -> Outcome:
    """``invoice.paid`` for Pro: the month's credits, topped up to at most three months' worth."""
    invoice = parse_invoice(event.obj)
    device_id = invoice.device_id or await _customer_device(ctx, invoice.customer)
    if device_id is None or not await ctx.known(device_id):
        return await ctx.flag(invoice.id, "the invoice names no registered device")
    key = f"invoice:{invoice.id}"
    if await records.payment(ctx.conn, key) is not None:
        return Outcome.REPLAYED
    plan = pro_plan(ctx.deps.card)
    price = plan_price(plan, ctx.deps.settings.currency)
    if invoice.amount_paid != price.amount or invoice.currency != price.currency:
        return await ctx.flag(
            invoice.id,
            f"the invoice paid {invoice.amount_paid} {invoice.currency}, Pro costs "
            f"{price.amount} {price.currency}",
        )
    # Read under the wallet's row lock, so concurrent invoices of one wallet take turns and
    # the rollover cap holds (SQLite's write transaction already excludes).
    held = await ctx.conn.scalar(
        select(schema.wallets.c.subscription)
        .where(schema.wallets.c.device_id == device_id)
        .with_for_update()
    )
    room = rollover_cap(plan) - int(held or 0)
    credits = max(0, min(plan.credits_month, room))
    paid = records.Payment(
        key=key,
        device_id=device_id,
        kind="pro",
        pack=price.name,
        credits=credits,
        amount=invoice.amount_paid,
        currency=invoice.currency,
        payment_intent=invoice.payment_intent,
        created_at=ctx.now,
    )
    await ctx.grant_payment(paid, Bucket.SUBSCRIPTION, "Pro monthly credits")
    await ctx.deps.store.set_plan(device_id, "pro", conn=ctx.conn)
    await _link_subscription(ctx, device_id, invoice.customer, invoice.subscription)
    return Outcome.APPLIED


async def on_subscription_deleted(ctx: Context, event: Event) -> Outcome:
    """``customer.subscription.deleted``: Pro ends at the end of the period already paid."""
    sub = parse_subscription(event.obj)
    device_id = sub.device_id or await _customer_device(ctx, sub.customer)
    if device_id is None or not await ctx.known(device_id):
        return await ctx.flag(sub.id, "the subscription names no registered device")
    ends = max(ctx.now, sub.current_period_end or 0)
    await records.update_account(ctx.conn, device_id, subscription=sub.id, pro_ends_at=ends)
    if ends <= ctx.now:
        await end_plan(ctx, device_id)
    else:
        day = datetime.fromtimestamp(ends, UTC).date().isoformat()
        await ctx.notify(device_id, "pro_ending", f"Your Pro plan ends on {day}.")
    return Outcome.APPLIED


async def end_plan(ctx: Context, device_id: uuid.UUID) -> bool:
    """Back to the free plan if its end is due and nobody ended it yet (the credits already
    granted stay); whether this call ended it."""
    if not await records.claim_plan_end(ctx.conn, device_id, ctx.now):
        return False
    await ctx.deps.store.set_plan(device_id, "free", conn=ctx.conn)
    return True


async def _link_subscription(
    ctx: Context, device_id: uuid.UUID, customer: str | None, subscription: str | None
) -> None:
    """Remember the device's subscription; a new one clears a planned end, while a late event
    of the subscription already ended keeps it (Stripe does not keep events in order)."""
    found = await records.account(ctx.conn, device_id)
    ended = found is not None and found.pro_ends_at is not None
    if ended and found is not None and found.subscription == subscription:
        await records.update_account(ctx.conn, device_id, customer=customer)
        return
    await records.update_account(
        ctx.conn, device_id, customer=customer, subscription=subscription, pro_ends_at=None
    )


async def _payment(ctx: Context, intent: str | None) -> records.Payment | None:
    return None if intent is None else await records.payment_by_intent(ctx.conn, intent)


async def _customer_device(ctx: Context, customer: str | None) -> uuid.UUID | None:
    if customer is None:
        return None
    found = await records.account_by_customer(ctx.conn, customer)
    return None if found is None else found.device_id


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": on_session_paid,
    "checkout.session.async_payment_succeeded": on_session_paid,
    "checkout.session.async_payment_failed": on_session_failed,
    "payment_intent.succeeded": on_intent_succeeded,
    "payment_intent.payment_failed": on_intent_failed,
    "charge.refunded": on_refund,
    "charge.dispute.created": on_dispute_created,
    "charge.dispute.closed": on_dispute_closed,
    "invoice.paid": on_invoice_paid,
    "customer.subscription.deleted": on_subscription_deleted,
}
