"""``promptready-cloud admin ...``: operator commands against the same database as the servers.

Each command opens the store, does one thing, prints a short plain-text answer (or JSON with
``--json``) and closes it. Device ids are printed only where the operator typed them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from promptready.cloud.clock import Clock, SystemClock
from promptready.cloud.config import CloudConfig
from promptready.cloud.store import Bucket, CreditsView, LedgerKind, Stats, Store

if TYPE_CHECKING:
    from promptready.cloud.billing.revenue import WeekMoney


@dataclass(frozen=True)
class Answer:
    """What a command prints: a human line or table, and the same facts as JSON."""

    text: str
    data: Any

    def render(self, as_json: bool) -> str:
        return json.dumps(self.data, indent=2, default=str) if as_json else self.text


@asynccontextmanager
async def _opened(config: CloudConfig) -> AsyncIterator[Store]:
    store = await Store.open(config.database_url, config.store_settings())
    try:
        await store.ensure_schema()
        yield store
    finally:
        await store.close()


async def grant(
    config: CloudConfig, device_id: uuid.UUID, credits: int, reason: str, idem_key: str | None
) -> Answer:
    """Add purchased-bucket credits (never expire) to a device, once per ``idem_key``."""
    async with _opened(config) as store:
        key = idem_key or f"admin:{uuid.uuid4()}"
        applied = await store.grant(
            device_id,
            credits,
            bucket=Bucket.PURCHASED,
            kind=LedgerKind.GRANT,
            idem_key=key,
            reason=reason,
        )
        view = await store.credits(device_id)
    verb = "granted" if applied else "already granted (same --idem-key), nothing changed:"
    return Answer(
        f"{verb} {credits} credits; balance {view.balance}",
        {"applied": applied, **_view(view)},
    )


async def balance(config: CloudConfig, device_id: uuid.UUID) -> Answer:
    """A device's wallet."""
    async with _opened(config) as store:
        view = await store.credits(device_id)
    buckets = ", ".join(f"{b.value} {n}" for b, n in view.buckets.items())
    text = (
        f"balance {view.balance} (available {view.available}, reserved {view.reserved}); "
        f"buckets: {buckets}; cohort {view.cohort}; plan {view.plan}"
        + ("; FROZEN" if view.frozen else "")
    )
    return Answer(text, _view(view))


async def ledger(config: CloudConfig, device_id: uuid.UUID) -> Answer:
    """A device's ledger, oldest first."""
    async with _opened(config) as store:
        entries = await store.ledger(device_id)
    lines = [
        f"{e.created_at.isoformat(timespec='seconds')}  {e.kind.value:<10} {e.bucket.value:<12} "
        f"{e.delta:+d}  {e.reason}"
        for e in entries
    ]
    data = [
        {
            "id": e.id,
            "at": e.created_at.isoformat(),
            "kind": e.kind.value,
            "bucket": e.bucket.value,
            "delta": e.delta,
            "reason": e.reason,
        }
        for e in entries
    ]
    return Answer("\n".join(lines) or "no ledger entries", data)


async def set_cap(config: CloudConfig, usd: Decimal) -> Answer:
    """Set the shared weekly cap."""
    async with _opened(config) as store:
        await store.set_weekly_cap(usd)
        week = await store.weekly_spend()
    return Answer(
        f"weekly cap set to ${week.cap_usd} (spent ${week.committed_usd} in {week.week})",
        {"cap_usd": str(week.cap_usd), "week": week.week, "committed_usd": str(week.committed_usd)},
    )


async def stats(config: CloudConfig, clock: Clock | None = None) -> Answer:
    """Totals across every device, and revenue, COGS and gross margin of the last 8 weeks."""
    # Imported here: the money report brings prometheus_client, which no other command needs.
    from promptready.cloud.billing.money_report import recent_weeks
    from promptready.cloud.billing.revenue import week_lines

    now = int((clock or SystemClock()).now().timestamp())
    async with _opened(config) as store:
        found = await store.stats()
        weeks = await recent_weeks(store, now)
    text = "\n".join([_stats_text(found), *(week_lines(weeks) or ["no revenue or COGS yet"])])
    return Answer(text, {**_stats_data(found), "money": [_week_data(w) for w in weeks]})


async def prune(config: CloudConfig, days: int) -> Answer:
    """Delete raw usage events older than ``days`` (weekly aggregates stay)."""
    async with _opened(config) as store:
        removed = await store.prune_usage(days)
    return Answer(f"removed {removed} usage events older than {days} days", {"removed": removed})


def _view(view: CreditsView) -> dict[str, Any]:
    return {
        "balance": view.balance,
        "available": view.available,
        "reserved": view.reserved,
        "buckets": {b.value: n for b, n in view.buckets.items()},
        "cohort": view.cohort,
        "plan": view.plan,
        "frozen": view.frozen,
    }


def _stats_text(found: Stats) -> str:
    week = found.weekly
    cohorts = ", ".join(f"{name} {n}" for name, n in sorted(found.cohorts.items())) or "none"
    return "\n".join(
        [
            f"devices              {found.devices} ({cohorts})",
            f"credits outstanding  {found.credits_outstanding}",
            f"credits debited      {found.credits_debited}",
            f"open holds           {found.open_holds}",
            f"usage events         {found.usage_events}",
            f"week {week.week}       ${week.committed_usd} spent, ${week.reserved_usd} held, "
            f"cap ${week.cap_usd}",
        ]
    )


def _week_data(week: WeekMoney) -> dict[str, str]:
    return {
        "week": week.week,
        "revenue_usd": str(week.revenue_usd),
        "cogs_usd": str(week.cogs_usd),
        "gross_margin": str(week.margin),
    }


def _stats_data(found: Stats) -> dict[str, Any]:
    week = found.weekly
    return {
        "devices": found.devices,
        "cohorts": found.cohorts,
        "credits_outstanding": found.credits_outstanding,
        "credits_debited": found.credits_debited,
        "open_holds": found.open_holds,
        "usage_events": found.usage_events,
        "week": {
            "week": week.week,
            "committed_usd": str(week.committed_usd),
            "reserved_usd": str(week.reserved_usd),
            "cap_usd": str(week.cap_usd),
        },
    }
