"""Revenue, COGS and gross margin per ISO week, for ``/metrics`` and ``admin stats``.

Revenue is what payments brought in less what refunds and lost disputes took back, dated when
each happened (billing's rows); COGS is the store's committed upstream spend of that week (the
rate card's price of every settled request). The arithmetic is pure; ``weekly_money`` reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from promptready.cloud import schema
from promptready.cloud.billing import tables
from promptready.cloud.store import Store

CENTS = Decimal("0.01")
MICRO = Decimal("0.000001")


@dataclass(frozen=True)
class WeekMoney:
    """One ISO week's money: revenue and COGS in USD, and the gross margin as a fraction."""

    week: str
    revenue_usd: Decimal
    cogs_usd: Decimal

    @property
    def margin(self) -> Decimal:
        """(revenue - COGS) / revenue; 1 for a week with neither, negative for cost alone."""
        if self.revenue_usd == 0:
            return Decimal(1) if self.cogs_usd == 0 else Decimal(-1)
        return ((self.revenue_usd - self.cogs_usd) / self.revenue_usd).quantize(MICRO)


def iso_week(unix_s: int) -> str:
    """The ISO week of a unix time, as the store keys its weekly spend ("2026-W49")."""
    year, week, _ = datetime.fromtimestamp(unix_s, UTC).isocalendar()
    return f"{year}-W{week:02d}"


def week_money(
    revenue_cents: Iterable[tuple[int, int]], cogs_micro: Mapping[str, int]
) -> list[WeekMoney]:
    """Weeks in order from ``(unix time, cents)`` movements (refunds negative) and COGS by week."""
    cents: dict[str, int] = defaultdict(int)
    for when, amount in revenue_cents:
        cents[iso_week(when)] += amount
    weeks = sorted(set(cents) | set(cogs_micro))
    return [
        WeekMoney(w, Decimal(cents.get(w, 0)) * CENTS, Decimal(cogs_micro.get(w, 0)) * MICRO)
        for w in weeks
    ]


async def weekly_money(store: Store, since: int = 0) -> list[WeekMoney]:
    """Every week's money from ``since`` (unix seconds) on."""
    async with store.transaction() as conn:
        paid = await conn.execute(
            select(tables.payments.c.created_at, tables.payments.c.amount).where(
                tables.payments.c.created_at >= since
            )
        )
        movements = [(r.created_at, r.amount) for r in paid]
        taken = await conn.execute(
            select(tables.clawbacks.c.created_at, tables.clawbacks.c.amount).where(
                tables.clawbacks.c.created_at >= since
            )
        )
        movements += [(r.created_at, -r.amount) for r in taken]
        spend = await conn.execute(
            select(
                schema.weekly_spend.c.week, func.sum(schema.weekly_spend.c.committed_micro)
            ).group_by(schema.weekly_spend.c.week)
        )
        first = iso_week(since) if since else ""
        cogs = {week: int(total) for week, total in spend if week >= first}
    return week_money(movements, cogs)


def this_week(weeks: list[WeekMoney], now: int) -> WeekMoney:
    """The week containing ``now`` (zeros when nothing happened in it yet)."""
    current = iso_week(now)
    return next((w for w in weeks if w.week == current), WeekMoney(current, Decimal(0), Decimal(0)))


def week_lines(weeks: list[WeekMoney]) -> list[str]:
    """One line per week, as ``admin stats`` and ``admin reconcile`` print them."""
    return [
        f"{w.week}: revenue {w.revenue_usd:.2f} USD, COGS {w.cogs_usd:.6f} USD, "
        f"gross margin {w.margin:.1%}"
        for w in weeks
    ]
