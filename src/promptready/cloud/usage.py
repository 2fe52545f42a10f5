"""Usage events: one per charged request, the device id hashed with a server-side key.

``UsageHasher(key)`` takes the key (``StoreSettings.usage_key``): HMAC-SHA256 of the device id,
so raw events cannot be tied back to a device without the key. Raw events are kept for a number
of days; ``prune`` folds the old ones into ``usage_weekly`` (per ISO week, cohort, model
and status), so the aggregates outlive them.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud.schema import usage_events, usage_weekly

MIN_KEY_BYTES = 16


class UsageHasher:
    """Hashes device ids for usage events with the server's key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the usage hashing key needs at least {MIN_KEY_BYTES} bytes")
        self._key = key

    def __repr__(self) -> str:
        return "UsageHasher(key=***)"

    def device_hash(self, device_id: uuid.UUID) -> str:
        """HMAC-SHA256(key, device id bytes), hex."""
        return hmac.new(self._key, device_id.bytes, hashlib.sha256).hexdigest()


# A usage event's columns in the order the hot statements select them.
EVENT_COLUMNS = (
    "device_hash",
    "week",
    "cohort",
    "model",
    "status",
    "prompt_tokens",
    "completion_tokens",
    "cost_micro",
    "credits",
    "latency_ms",
    "ts",
)
INSERT_EVENT = insert(usage_events)

_GROUP = (usage_events.c.week, usage_events.c.cohort, usage_events.c.model, usage_events.c.status)
_AMOUNTS = (
    usage_events.c.prompt_tokens,
    usage_events.c.completion_tokens,
    usage_events.c.cost_micro,
    usage_events.c.credits,
)


def fold(rows: Iterable[Sequence[Any]]) -> dict[tuple[str, str, str, str], list[int]]:
    """Per (week, cohort, model, status): [requests, prompt, completion, cost_micro, credits]."""
    totals: dict[tuple[str, str, str, str], list[int]] = {}
    for week, cohort, model, status, *amounts in rows:
        sums = totals.setdefault((week, cohort, model, status), [0, 0, 0, 0, 0])
        sums[0] += 1
        for i, amount in enumerate(amounts, start=1):
            sums[i] += int(amount)
    return totals


async def prune(conn: AsyncConnection, before_s: int) -> int:
    """Delete events older than ``before_s`` (unix seconds) and add them to the weekly table;
    returns how many. DELETE ... RETURNING hands each row to exactly one pruning instance."""
    deleted = await conn.execute(
        delete(usage_events).where(usage_events.c.ts < before_s).returning(*_GROUP, *_AMOUNTS)
    )
    rows = deleted.all()
    for (week, cohort, model, status), sums in fold(rows).items():
        requests, prompt, completion, cost, credits = sums
        key = (
            (usage_weekly.c.week == week)
            & (usage_weekly.c.cohort == cohort)
            & (usage_weekly.c.model == model)
            & (usage_weekly.c.status == status)
        )
        added = {
            "requests": usage_weekly.c.requests + requests,
            "prompt_tokens": usage_weekly.c.prompt_tokens + prompt,
            "completion_tokens": usage_weekly.c.completion_tokens + completion,
            "cost_micro": usage_weekly.c.cost_micro + cost,
            "credits": usage_weekly.c.credits + credits,
        }
        changed = await conn.execute(update(usage_weekly).where(key).values(added))
        if changed.rowcount == 0:
            await conn.execute(
                insert(usage_weekly).values(
                    week=week,
                    cohort=cohort,
                    model=model,
                    status=status,
                    requests=requests,
                    prompt_tokens=prompt,
                    completion_tokens=completion,
                    cost_micro=cost,
                    credits=credits,
                )
            )
    return len(rows)
