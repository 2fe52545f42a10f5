"""Billing's figures for ``GET /metrics`` (set at scrape time) and ``admin stats`` (printed)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from promptready.cloud import schema
from promptready.cloud.billing.metrics import BillingMetrics
from promptready.cloud.billing.revenue import WeekMoney, this_week, week_lines, weekly_money
from promptready.cloud.store import Store
from promptready.pricing import RateCard

NEAR_ALLOWANCE = 0.9
WEEK_S = 7 * 86_400


async def free_near_allowance(store: Store, card: RateCard, now: int) -> int:
    """Free-plan devices that have used more than 90% of this month's free allowance."""
    allowance = card.plans["free"].credits_month
    left_at_most = int(allowance * (1 - NEAR_ALLOWANCE))
    month = datetime.fromtimestamp(now, UTC).strftime("%Y-%m")
    async with store.transaction() as conn:
        found = await conn.scalar(
            select(func.count())
            .select_from(schema.wallets.join(schema.devices))
            .where(
                schema.devices.c.plan == "free",
                schema.wallets.c.free_month == month,
                schema.wallets.c.free <= left_at_most,
            )
        )
    return int(found or 0)


async def publish_money(metrics: BillingMetrics, store: Store, card: RateCard, now: int) -> None:
    """Set the money gauges for this scrape (call it from ``/metrics`` before rendering)."""
    week = this_week(await weekly_money(store, now - WEEK_S), now)
    metrics.publish(week, await free_near_allowance(store, card, now))


async def recent_weeks(store: Store, now: int, weeks: int = 8) -> list[WeekMoney]:
    """The last ``weeks`` weeks' money (weeks with none left out), for ``admin stats``."""
    return await weekly_money(store, now - weeks * WEEK_S)


async def stats_lines(store: Store, now: int, weeks: int = 8) -> list[str]:
    """The last ``weeks`` weeks' money as ``admin stats`` prints it."""
    return week_lines(await recent_weeks(store, now, weeks))
