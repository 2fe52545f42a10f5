"""Scripted billing histories on the Stripe stand-in, with their expected outcome worked out by
hand, shared by the replay, reconciliation and money tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from promptready.cloud.billing.autoreload import maybe_reload
from promptready.cloud.store import Admission, Replay, UsageRecord
from tests.cloud.billing.conftest import Api

Event = dict[str, Any]


# Hand computation of scripted_history: Micro 3 + Starter 5 + Bulk 15 + Mega 30 + Pro 3 x 9 +
# Starter 5 + two auto-reloads 2 x 5 = 95 USD charged; Mega refunded (30) and the Bulk dispute
# lost (15): 50 USD revenue. COGS 0.010 + 0.045 + 0.120 + 0.002 = 0.177 USD.
PAID_CENTS = 9500
REFUNDED_CENTS = 3000
REVENUE = Decimal("50.00")
COGS = Decimal("0.177")


@dataclass
class History:
    """What a script did: its devices, every event Stripe produced, and the hand-worked money."""

    devices: list[uuid.UUID] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    paid_cents: int = 0
    refunded_cents: int = 0
    cogs_usd: Decimal = Decimal(0)


async def deliver_all(api: Api, events: list[Event]) -> None:
    for event in events:
        answer = await api.deliver(event)
        assert answer.status_code == 200, answer.text


async def spend(api: Api, device: uuid.UUID, credits: int, cost_usd: Decimal, model: str) -> None:
    """Use ``credits`` through the store's admit and settle, as a real request would."""
    admission = await api.billing.store.admit(
        device, credits=credits, cost_usd=cost_usd, idempotency_key=None
    )
    assert isinstance(admission, Admission), admission
    assert not isinstance(admission, Replay)
    usage = UsageRecord(
        prompt_tokens=credits * 400,
        completion_tokens=credits * 600,
        model=model,
        cohort=admission.cohort.name,
        cost_usd=cost_usd,
        credits=credits,
        latency_ms=5,
        status="ok",
    )
    await api.billing.store.settle(admission.hold_id, usage)


async def buy(api: Api, history: History, device: uuid.UUID, pack: str, cents: int) -> str:
    """Buy ``pack`` and deliver its events; the session id."""
    session = await api.buy(device, pack)
    events = api.standin.pay_session(session)
    history.events += events
    history.paid_cents += cents
    await deliver_all(api, events)
    return session


async def scripted_history(api: Api) -> History:
    """Every pack, Pro renewed twice, a partial and a full refund, a lost dispute and two
    auto-reloads, with usage on each cohort (A: Alice, B: Dave, C: Carol)."""
    history = History()
    alice, bob, carol, dave = [await api.device(cohort) for cohort in ("A", "A", "C", "B")]
    history.devices += [alice, bob, carol, dave]

    # Alice spends her free credits, then Micro is offered and bought; then Starter and Bulk.
    await api.billing.store.credits(alice)
    await spend(api, alice, 25, Decimal("0.010000"), "gpt-oss-20b")
    history.cogs_usd += Decimal("0.010000")
    await buy(api, history, alice, "micro", 300)
    await buy(api, history, alice, "Starter", 500)
    bulk = await buy(api, history, alice, "Bulk", 1500)
    await spend(api, alice, 120, Decimal("0.045000"), "llama-3.1-8b-instant")
    history.cogs_usd += Decimal("0.045000")

    # Bob buys Mega, is partly refunded ($6 = 500 credits), then fully refunded.
    mega = await buy(api, history, bob, "Mega", 3000)
    charge = api.standin.charge_of(mega)["id"]
    for amount in (600, None):
        events = api.standin.refund(charge, amount)
        history.events += events
        await deliver_all(api, events)
    history.refunded_cents += 3000

    # Alice disputes the Bulk purchase and loses.
    disputed = api.standin.dispute(api.standin.charge_of(bulk)["id"])
    lost = api.standin.close_dispute(disputed[0]["data"]["object"]["id"], "lost")
    history.events += disputed + lost
    await deliver_all(api, disputed + lost)
    history.refunded_cents += 1500

    # Carol subscribes to Pro, renewed twice.
    answer = await api.post(carol, "/api/v1/billing/subscribe")
    events = api.standin.pay_session(answer.json()["session_id"])
    subscription = events[0]["data"]["object"]["subscription"]
    for renewal in (events, api.standin.renew(subscription), api.standin.renew(subscription)):
        history.events += renewal
        history.paid_cents += 900
        await deliver_all(api, renewal)
    await spend(api, carol, 300, Decimal("0.120000"), "gemini-2.0-flash")
    history.cogs_usd += Decimal("0.120000")

    # Dave buys Starter, turns auto-reload on and crosses below 50 twice.
    await buy(api, history, dave, "Starter", 500)
    await spend(api, dave, 10, Decimal("0.002000"), "llama-3.1-8b-instant")
    history.cogs_usd += Decimal("0.002000")
    await api.post(dave, "/api/v1/billing/auto-reload", {"enabled": True})
    for _ in range(2):
        assert await maybe_reload(api.billing, dave, 10) is not None
        [succeeded] = api.standin.events[-1:]
        history.events.append(succeeded)
        history.paid_cents += 500
        await deliver_all(api, [succeeded])
    return history
