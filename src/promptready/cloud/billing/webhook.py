"""Receiving one Stripe webhook: verify the raw body, then apply its event at most once.

The event id is inserted first in the same transaction as the effect, so a concurrent duplicate
collides on it (and, after the first commits, sees it and changes nothing); an exception in a
handler rolls both back and the caller answers 5xx, so Stripe's retry applies it later.
"""

from __future__ import annotations

import uuid

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud.billing import records
from promptready.cloud.billing.context import Context, Facts, Outcome, facts_for
from promptready.cloud.billing.deps import BillingDeps
from promptready.cloud.billing.handlers import HANDLERS, PaymentNotYetKnownError, end_plan
from promptready.cloud.billing.signature import SignatureError, verify
from promptready.cloud.billing.stripe_objects import (
    Event,
    PayloadError,
    parse_event,
    parse_invoice,
    parse_payment_intent,
    parse_session,
    parse_subscription,
)


class BadEventError(Exception):
    """A correctly signed body that is not a Stripe event; ``str()`` says what is wrong."""


async def receive(deps: BillingDeps, raw: bytes, signature: str | None) -> Outcome:
    """Verify and apply one webhook; SignatureError or BadEventError change nothing (answer 400)."""
    verify(
        raw,
        signature,
        deps.settings.webhook_secrets,
        tolerance_s=deps.settings.webhook_tolerance_s,
    )
    try:
        event = parse_event(orjson.loads(raw))
    except (orjson.JSONDecodeError, PayloadError) as exc:
        raise BadEventError(f"the webhook body is not a Stripe event ({exc})") from None
    if deps.plan_sweep.due(deps.now()):
        await end_lapsed_plans(deps)
    handler = HANDLERS.get(event.type)
    if handler is None:
        return Outcome.IGNORED
    try:
        facts = await _facts(deps, event)

        async def work(conn: AsyncConnection) -> Outcome:
            if await records.event_seen(conn, event.id):
                return Outcome.REPLAYED
            now = deps.now()
            await records.record_event(conn, event.id, event.type, now)
            return await handler(Context(deps, conn, facts, now, event.id), event)

        return await records.once(deps.store, work)
    except PayloadError as exc:
        return await _unreadable(deps, event, str(exc))


async def end_lapsed_plans(deps: BillingDeps) -> int:
    """Move devices whose cancelled Pro plan reached its period end back to free."""
    now = deps.now()

    async def work(conn: AsyncConnection) -> int:
        lapsed = await records.lapsed_plans(conn, now)
        for device_id in lapsed:
            await end_plan(Context(deps, conn, Facts(None), now, "plan-end"), device_id)
        return len(lapsed)

    return await records.once(deps.store, work)


async def _facts(deps: BillingDeps, event: Event) -> Facts:
    """The store's view of the device the event names (read before the transaction opens)."""
    device_id = await _named_device(deps, event)
    return await facts_for(deps, device_id)


async def _named_device(deps: BillingDeps, event: Event) -> uuid.UUID | None:
    kind = event.type.partition(".")[0]
    if kind == "checkout":
        return parse_session(event.obj).device_id
    if kind == "payment_intent":
        return parse_payment_intent(event.obj).device_id
    if kind in ("invoice", "customer"):
        found = parse_invoice(event.obj) if kind == "invoice" else parse_subscription(event.obj)
        if found.device_id is not None or found.customer is None:
            return found.device_id
        customer = found.customer

        async def lookup(conn: AsyncConnection) -> uuid.UUID | None:
            account = await records.account_by_customer(conn, customer)
            return None if account is None else account.device_id

        return await records.once(deps.store, lookup)
    return None  # charges and disputes name the payment, which names the device


async def _unreadable(deps: BillingDeps, event: Event, reason: str) -> Outcome:
    """A signed event whose object lacks what its handler needs: recorded once, for a person."""

    async def work(conn: AsyncConnection) -> Outcome:
        if await records.event_seen(conn, event.id):
            return Outcome.REPLAYED
        now = deps.now()
        await records.record_event(conn, event.id, event.type, now)
        await records.flag(conn, event.id, event.id, f"unreadable {event.type}: {reason}", now)
        return Outcome.REVIEW

    return await records.once(deps.store, work)


__all__ = [
    "BadEventError",
    "PaymentNotYetKnownError",
    "SignatureError",
    "end_lapsed_plans",
    "receive",
]
