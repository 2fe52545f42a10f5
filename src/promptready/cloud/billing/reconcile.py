"""Reconciliation: Stripe's records, billing's payment rows and the credit ledger must agree.

Three comparisons, each difference one printable line:
1. Stripe → billing: every paid Checkout Session, paid invoice and succeeded charge has its
   payment row with the same amount; every charge's ``amount_refunded`` equals the refunds taken
   back from it; every lost dispute was taken back.
2. Billing → Stripe: every payment row since the start names a Stripe charge of its amount (a
   credit nobody paid for is a difference too).
3. Billing → ledger: per device, purchase credits in the ledger equal the payment rows' credits,
   refund credits equal the clawbacks'.
Stripe objects are read from three days before ``since`` (Stripe retries a webhook for up to
three days, so a payment may be recorded that long after Stripe created it).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TextIO

from sqlalchemy import select

from promptready.cloud.billing import tables
from promptready.cloud.billing.records import Payment
from promptready.cloud.billing.revenue import WeekMoney, week_lines, weekly_money
from promptready.cloud.billing.settings import load_billing
from promptready.cloud.billing.stripe_api import StripeApi
from promptready.cloud.store import LedgerKind, Store

SLACK_S = 3 * 86_400


@dataclass(frozen=True)
class Report:
    """What reconciliation found, and the money it covered."""

    differences: list[str]
    stripe_paid_cents: int
    stripe_refunded_cents: int
    weeks: list[WeekMoney] = field(default_factory=list)


@dataclass
class _Ours:
    payments: dict[str, Payment] = field(default_factory=dict)
    by_intent: dict[str, str] = field(default_factory=dict)
    refunded: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    disputes: set[str] = field(default_factory=set)
    credits: dict[uuid.UUID, list[int]] = field(default_factory=dict)


async def _ours(store: Store) -> _Ours:
    ours = _Ours()
    async with store.transaction() as conn:
        for row in await conn.execute(select(tables.payments)):
            paid = Payment(**row._asdict())
            ours.payments[paid.key] = paid
            if paid.payment_intent:
                ours.by_intent[paid.payment_intent] = paid.key
            ours.credits.setdefault(paid.device_id, [0, 0])[0] += paid.credits
        for row in await conn.execute(select(tables.clawbacks)):
            if row.key.startswith("dispute:"):
                ours.disputes.add(row.key.removeprefix("dispute:"))
            else:
                ours.refunded[row.payment_key] += row.amount
            ours.credits.setdefault(row.device_id, [0, 0])[1] += row.credits
    return ours


async def reconcile(store: Store, stripe: StripeApi, since: int = 0) -> Report:
    """Compare Stripe with billing's rows and the ledger from ``since`` (unix seconds) on."""
    ours = await _ours(store)
    found: list[str] = []
    start = max(0, since - SLACK_S)
    async for session in stripe.sessions(start):
        if session.mode == "payment" and session.paid:
            paid = ours.payments.get(f"checkout:{session.id}")
            if paid is None:
                found.append(f"checkout {session.id}: paid in Stripe, no credits granted")
            elif paid.amount != session.amount_total:
                found.append(
                    f"checkout {session.id}: Stripe {session.amount_total}, ledger {paid.amount}"
                )
    async for invoice in stripe.invoices(start):
        if invoice.status == "paid" and f"invoice:{invoice.id}" not in ours.payments:
            found.append(f"invoice {invoice.id}: paid in Stripe, no credits granted")
    paid_cents = refunded_cents = 0
    charged: dict[str, int] = {}
    async for charge in stripe.charges(start):
        paid_cents += charge.amount
        refunded_cents += charge.amount_refunded
        if charge.payment_intent is None:
            continue
        charged[charge.payment_intent] = charge.amount
        key = ours.by_intent.get(charge.payment_intent)
        if key is None:
            found.append(f"charge {charge.id}: {charge.amount} paid, matches no granted payment")
            continue
        if ours.payments[key].amount != charge.amount:
            found.append(
                f"charge {charge.id}: Stripe {charge.amount}, {key} {ours.payments[key].amount}"
            )
        if ours.refunded.get(key, 0) != charge.amount_refunded:
            found.append(
                f"charge {charge.id}: {charge.amount_refunded} refunded in Stripe, "
                f"{ours.refunded.get(key, 0)} taken back"
            )
    async for dispute in stripe.disputes(start):
        if dispute.status == "lost" and dispute.id not in ours.disputes:
            found.append(f"dispute {dispute.id}: lost in Stripe, credits not taken back")
    for key, paid in ours.payments.items():
        if paid.created_at >= since and charged.get(paid.payment_intent or "") is None:
            found.append(f"{key}: credits granted, no Stripe charge found")
    found += await _ledger_differences(store, ours.credits)
    weeks = await weekly_money(store, since)
    return Report(found, paid_cents, refunded_cents, weeks)


async def _ledger_differences(store: Store, expected: Mapping[uuid.UUID, list[int]]) -> list[str]:
    """Per device: the ledger's purchase and refund credits against billing's rows."""
    found: list[str] = []
    for device_id, (bought, taken) in expected.items():
        entries = await store.ledger(device_id)
        purchases = sum(e.delta for e in entries if e.kind is LedgerKind.PURCHASE)
        refunds = -sum(e.delta for e in entries if e.kind is LedgerKind.REFUND)
        if purchases != bought:
            found.append(f"device {device_id}: ledger purchases {purchases}, payments {bought}")
        if refunds != taken:
            found.append(f"device {device_id}: ledger refunds {refunds}, clawbacks {taken}")
    return found


def print_report(report: Report, out: TextIO) -> None:
    """The report as the admin CLI prints it: every difference, then money per week."""
    for line in report.differences:
        print(f"DIFFERENCE {line}", file=out)
    charged, refunded = report.stripe_paid_cents / 100, report.stripe_refunded_cents / 100
    print(
        f"{len(report.differences)} differences; Stripe charged {charged:.2f} USD, "
        f"refunded {refunded:.2f} USD",
        file=out,
    )
    for line in week_lines(report.weeks):
        print(line, file=out)


async def run_reconcile(
    store: Store, env: Mapping[str, str], since: date | None, out: TextIO
) -> int:
    """``promptready-cloud admin reconcile [--since DATE]``: prints the report; the exit code
    is 0 when everything agrees, 1 on any difference, 2 when billing is not configured."""
    settings = load_billing(env)
    if settings is None:
        print("Billing is off: set STRIPE_API_KEY to reconcile with Stripe.", file=out)
        return 2
    stripe = StripeApi(settings.api_key, api_base=settings.api_base)
    start = (
        0
        if since is None
        else int(datetime(since.year, since.month, since.day, tzinfo=UTC).timestamp())
    )
    try:
        report = await reconcile(store, stripe, start)
    finally:
        await stripe.close()
    print_report(report, out)
    return 1 if report.differences else 0
