"""The weekly cap (shared by every instance), stats for the admin CLI, pruning of raw usage
events and the invariant audit."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from promptready.cloud import audit, breaker
from promptready.cloud.breaker import from_micro, to_micro, week_key
from promptready.cloud.holds import HoldState
from promptready.cloud.records import Stats, WeeklySpend
from promptready.cloud.schema import (
    WEEKLY_CAP_KEY,
    devices,
    holds,
    ledger,
    settings,
    usage_events,
    wallets,
)
from promptready.cloud.store.core import StoreCore
from promptready.cloud.usage import prune
from promptready.cloud.wallet import LedgerKind


class Upkeep(StoreCore):
    """The weekly cap, stats, pruning and the invariant audit."""

    async def set_weekly_cap(self, usd: Decimal) -> None:
        """Set the global weekly cap (shared by every instance, effective at once)."""
        if usd < 0:
            raise ValueError("the weekly cap cannot be negative")
        value = str(to_micro(usd))
        async with self._write() as conn:
            await conn.execute(
                self._insert(settings)
                .values(key=WEEKLY_CAP_KEY, value=value)
                .on_conflict_do_update(index_elements=[settings.c.key], set_={"value": value})
            )

    async def weekly_spend(self) -> WeeklySpend:
        """This ISO week's committed and reserved spend and the cap."""
        week = week_key(self._clock.now())
        async with self._read() as conn:
            row = (
                await conn.execute(
                    breaker.TOTALS, {"p_week": week, "p_default_cap": self._cap_micro}
                )
            ).one()
        return WeeklySpend(week, from_micro(row[0]), from_micro(row[1]), from_micro(row[2]))

    async def stats(self) -> Stats:
        """Totals for the admin CLI."""
        weekly = await self.weekly_spend()
        async with self._read() as conn:
            count_devices = await conn.scalar(select(func.count()).select_from(devices))
            open_holds = await conn.scalar(
                select(func.count()).where(holds.c.state == HoldState.OPEN.value)
            )
            outstanding = await conn.scalar(select(func.coalesce(func.sum(wallets.c.balance), 0)))
            debited = await conn.scalar(
                select(func.coalesce(-func.sum(ledger.c.delta), 0)).where(
                    ledger.c.kind == LedgerKind.DEBIT.value
                )
            )
            events = await conn.scalar(select(func.count()).select_from(usage_events))
            cohorts = await conn.execute(
                select(devices.c.cohort, func.count()).group_by(devices.c.cohort)
            )
            by_cohort = {str(name): int(n) for name, n in cohorts}
        return Stats(
            devices=int(count_devices or 0),
            open_holds=int(open_holds or 0),
            credits_outstanding=int(outstanding or 0),
            credits_debited=int(debited or 0),
            usage_events=int(events or 0),
            weekly=weekly,
            cohorts=by_cohort,
        )

    async def prune_usage(self, days: int = 30) -> int:
        """Delete raw usage events older than ``days`` (weekly aggregates are kept)."""
        if days < 0:
            raise ValueError("days cannot be negative")
        before = int(self._clock.now().timestamp()) - days * 86_400
        async with self._write() as conn:
            return await prune(conn, before)

    async def check_invariants(self) -> list[str]:
        """Every wallet whose balance or reserved disagrees with the ledger or open holds, and
        every week whose reserved spend disagrees with its open holds (empty: all agree)."""
        async with self._snapshot() as conn:
            return await audit.invariant_problems(conn)
