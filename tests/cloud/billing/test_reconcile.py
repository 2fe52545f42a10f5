"""A scripted month on the stand-in reconciles to zero differences, and its revenue, COGS and
margin equal the hand computation; anything that does not match is reported (exit 1)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from sqlalchemy import insert

from promptready.cloud.billing import tables
from promptready.cloud.billing.reconcile import reconcile, run_reconcile
from promptready.cloud.billing.revenue import WeekMoney, this_week, week_money, weekly_money
from tests.cloud.billing.conftest import Api, billing_env
from tests.cloud.billing.scenario import COGS, PAID_CENTS, REFUNDED_CENTS, REVENUE, scripted_history


async def test_a_scripted_month_reconciles_with_no_difference(api: Api) -> None:
    history = await scripted_history(api)
    assert history.paid_cents == PAID_CENTS
    report = await reconcile(api.billing.store, api.billing.stripe)
    assert report.differences == []
    assert report.stripe_paid_cents == PAID_CENTS
    assert report.stripe_refunded_cents == REFUNDED_CENTS


async def test_the_months_revenue_cogs_and_margin_equal_the_hand_computation(api: Api) -> None:
    history = await scripted_history(api)
    assert history.cogs_usd == COGS
    week = this_week(await weekly_money(api.billing.store), api.billing.now())
    assert week.revenue_usd == REVENUE
    assert week.cogs_usd == COGS
    assert week.margin == (REVENUE - COGS) / REVENUE


async def test_the_cli_prints_no_difference_and_exits_0(api: Api) -> None:
    await scripted_history(api)
    out = io.StringIO()
    code = await run_reconcile(
        api.billing.store, billing_env(api.standin.url), date(2020, 1, 1), out
    )
    assert code == 0, out.getvalue()
    assert out.getvalue().startswith("0 differences; Stripe charged 95.00 USD")
    assert "revenue 50.00 USD" in out.getvalue()


async def test_a_paid_session_never_fulfilled_is_a_difference(api: Api) -> None:
    device = await api.device()
    session = await api.buy(device, "Starter")
    api.standin.pay_session(session)  # the webhook never arrives
    out = io.StringIO()
    code = await run_reconcile(api.billing.store, billing_env(api.standin.url), None, out)
    assert code == 1
    assert f"checkout {session}: paid in Stripe, no credits granted" in out.getvalue()


async def test_credits_granted_without_a_stripe_payment_are_a_difference(api: Api) -> None:
    device = await api.device()
    async with api.billing.store.transaction() as conn:
        await conn.execute(
            insert(tables.payments).values(
                key="checkout:cs_forged",
                device_id=device,
                kind="pack",
                pack="Mega",
                credits=2500,
                amount=3000,
                currency="usd",
                payment_intent="pi_forged",
                created_at=api.billing.now(),
            )
        )
    report = await reconcile(api.billing.store, api.billing.stripe)
    assert "checkout:cs_forged: credits granted, no Stripe charge found" in report.differences
    assert any("ledger purchases 0, payments 2500" in d for d in report.differences)


async def test_a_refund_not_taken_back_is_a_difference(api: Api) -> None:
    device = await api.device()
    session = await api.buy(device, "Bulk")
    await api.deliver(api.standin.pay_session(session)[0])
    api.standin.refund(api.standin.charge_of(session)["id"], 500)  # its webhook is lost
    report = await reconcile(api.billing.store, api.billing.stripe)
    assert len(report.differences) == 1
    assert "500 refunded in Stripe, 0 taken back" in report.differences[0]


async def test_reconcile_without_billing_configured_says_so(api: Api) -> None:
    out = io.StringIO()
    assert await run_reconcile(api.billing.store, {}, None, out) == 2
    assert "STRIPE_API_KEY" in out.getvalue()


def test_weeks_add_payments_and_subtract_refunds_in_the_week_they_happened() -> None:
    monday = 1_796_601_600  # 2026-12-07, a Monday, 00:00 UTC
    weeks = week_money(
        [(monday - 1, 500), (monday, 1500), (monday + 3600, -500)], {"2026-W50": 100_000}
    )
    assert weeks == [
        WeekMoney("2026-W49", Decimal("5.00"), Decimal(0)),
        WeekMoney("2026-W50", Decimal("10.00"), Decimal("0.1")),
    ]
    assert weeks[1].margin == Decimal("0.99")
    assert WeekMoney("x", Decimal(0), Decimal(0)).margin == 1
    assert WeekMoney("x", Decimal(0), Decimal(1)).margin == -1
