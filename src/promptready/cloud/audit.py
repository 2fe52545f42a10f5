"""Reconciliation: the store's invariants, checked against the ledger and the holds.

balance == SUM(ledger deltas) and reserved == SUM(open holds) for every wallet, and each week's
reserved spend == SUM(open holds' estimates) of that week.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud.holds import HoldState
from promptready.cloud.schema import holds, ledger, wallets, weekly_spend


async def invariant_problems(conn: AsyncConnection) -> list[str]:
    """One line per disagreement (empty: all agree); run it inside one snapshot."""
    sums = select(ledger.c.device_id, func.sum(ledger.c.delta).label("total")).group_by(
        ledger.c.device_id
    )
    opened = holds.c.state == HoldState.OPEN.value
    held = (
        select(holds.c.device_id, func.sum(holds.c.credits).label("total"))
        .where(opened)
        .group_by(holds.c.device_id)
    )
    sums_q, held_q = sums.subquery(), held.subquery()
    wallet_rows = select(
        wallets.c.device_id,
        wallets.c.balance,
        wallets.c.reserved,
        func.coalesce(sums_q.c.total, 0),
        func.coalesce(held_q.c.total, 0),
    ).select_from(
        wallets.outerjoin(sums_q, sums_q.c.device_id == wallets.c.device_id).outerjoin(
            held_q, held_q.c.device_id == wallets.c.device_id
        )
    )
    spend = select(weekly_spend.c.week, func.sum(weekly_spend.c.reserved_micro)).group_by(
        weekly_spend.c.week
    )
    held_spend = (
        select(holds.c.week, func.sum(holds.c.cost_micro)).where(opened).group_by(holds.c.week)
    )
    problems: list[str] = []
    for device_id, balance, reserved, total, open_total in await conn.execute(wallet_rows):
        if balance != total:
            problems.append(f"wallet {device_id}: balance {balance} != ledger {total}")
        if reserved != open_total:
            problems.append(f"wallet {device_id}: reserved {reserved} != open holds {open_total}")
    reserved_by_week = {w: int(n) for w, n in await conn.execute(spend)}
    held_by_week = {w: int(n) for w, n in await conn.execute(held_spend)}
    for week in sorted(reserved_by_week.keys() | held_by_week.keys()):
        if reserved_by_week.get(week, 0) != held_by_week.get(week, 0):
            problems.append(
                f"week {week}: reserved {reserved_by_week.get(week, 0)} micro-USD"
                f" != open holds {held_by_week.get(week, 0)}"
            )
    return problems
