"""Receiving one Stripe webhook: verify the raw body, then apply its event at most once.

The event id is inserted first in the same transaction as the effect, so a concurrent duplicate
collides on it (and, after the first commits, sees it and changes nothing); an exception in a
handler rolls both back and the caller answers 5xx, so Stripe's retry applies it later.
"""

from __future__ import annotations

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud.billing import records
from promptready.cloud.billing.context import Context, Outcome
from promptready.cloud.billing.deps import BillingDeps
from promptready.cloud.billing.handlers import HANDLERS, PaymentNotYetKnownError, end_plan
from promptready.cloud.billing.signature import SignatureError, verify
from promptready.cloud.billing.stripe_objects import (
    Event,
    PayloadError,
    parse_event,
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

    async def work(conn: AsyncConnection) -> Outcome:
        if await records.event_seen(conn, event.id):
            return Outcome.REPLAYED
        now = deps.now()
        await records.record_event(conn, event.id, event.type, now)
        return await handler(Context(deps, conn, now, event.id), event)

    try:
        return await records.once(deps.store, work)
    except PayloadError as exc:
        return await _unreadable(deps, event, str(exc))


async def end_lapsed_plans(deps: BillingDeps) -> int:
    """Move devices whose cancelled Pro plan reached its period end back to free."""
    now = deps.now()

    async def work(conn: AsyncConnection) -> int:
        ctx = Context(deps, conn, now, "plan-end")
        ended = 0
        for device_id in await records.lapsed_plans(conn, now):
            ended += await end_plan(ctx, device_id)
        return ended

    return await records.once(deps.store, work)


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
