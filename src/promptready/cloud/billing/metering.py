"""Metering export (off unless ``PROMPTREADY_CLOUD_BILLING_METERING_URL`` is set): usage events as
CloudEvents 1.0 to an OpenMeter-compatible ingest, through an outbox table.

``fill_outbox`` copies new usage events (past a cursor, in the cursor's transaction) into the
outbox; ``send_due`` leases a batch, POSTs it as ``application/cloudevents-batch+json`` and marks
it sent only on a 2xx. An outage loses nothing (rows wait, retried with doubling backoff); a
batch is never marked twice, and its event ids are stable (``usage-<id>``), so even a resend
after a crash mid-send is deduplicated by the ingest (OpenMeter keys on source + id). The subject
is the store's keyed hash of the device id, never the id itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud import logs, schema
from promptready.cloud.billing import records, tables
from promptready.cloud.billing.metrics import BillingMetrics
from promptready.cloud.clock import Clock
from promptready.cloud.store import Store

SOURCE = "promptready-cloud"
EVENT_TYPE = "promptready.usage"
CONTENT_TYPE = "application/cloudevents-batch+json"
CURSOR = "usage_events"
BATCH = 100
LEASE_S = 60
MAX_BACKOFF_S = 300
MICRO = Decimal("0.000001")


def cloud_event(row: Row[Any]) -> dict[str, object]:
    """One usage event as a CloudEvent (pure)."""
    return {
        "specversion": "1.0",
        "id": f"usage-{row.id}",
        "source": SOURCE,
        "type": EVENT_TYPE,
        "subject": row.device_hash,
        "time": datetime.fromtimestamp(row.ts, UTC).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": {
            "credits": row.credits,
            "prompt_tokens": row.prompt_tokens,
            "completion_tokens": row.completion_tokens,
            "cost_usd": str(Decimal(row.cost_micro) * MICRO),
            "model": row.model,
            "cohort": row.cohort,
            "status": row.status,
            "latency_ms": row.latency_ms,
        },
    }


def backoff_s(attempts: int) -> int:
    """Seconds before retrying a batch that failed ``attempts`` times: 2, 4, 8 … at most 300."""
    return int(min(MAX_BACKOFF_S, 2 ** max(1, attempts)))


async def fill_outbox(store: Store, now: int, limit: int = 1000) -> int:
    """Copy usage events past the cursor into the outbox; how many were added."""

    async def work(conn: AsyncConnection) -> int:
        position = await conn.scalar(
            select(tables.cursors.c.position)
            .where(tables.cursors.c.name == CURSOR)
            .with_for_update()
        )
        if position is None:
            await conn.execute(insert(tables.cursors).values(name=CURSOR, position=0))
            position = 0
        rows = (
            await conn.execute(
                select(schema.usage_events)
                .where(schema.usage_events.c.id > position)
                .order_by(schema.usage_events.c.id)
                .limit(limit)
            )
        ).all()
        if not rows:
            return 0
        await conn.execute(
            insert(tables.outbox),
            [
                {
                    "event_id": f"usage-{r.id}",
                    "body": orjson.dumps(cloud_event(r)).decode(),
                    "created_at": now,
                    "attempts": 0,
                    "next_attempt_at": 0,
                }
                for r in rows
            ],
        )
        await conn.execute(
            update(tables.cursors)
            .where(tables.cursors.c.name == CURSOR)
            .values(position=rows[-1].id)
        )
        return len(rows)

    return await records.once(store, work)


@dataclass(frozen=True)
class Ingest:
    """Where usage goes: the ingest URL and its bearer token."""

    url: str
    token: str | None


async def send_due(
    store: Store, client: httpx.AsyncClient, ingest: Ingest, metrics: BillingMetrics, now: int
) -> int:
    """Send one leased batch of due events; how many the ingest accepted (0 on failure)."""

    async def lease(conn: AsyncConnection) -> list[tuple[int, str, int]]:
        rows = (
            await conn.execute(
                select(tables.outbox.c.id, tables.outbox.c.body, tables.outbox.c.attempts)
                .where(tables.outbox.c.sent_at.is_(None), tables.outbox.c.next_attempt_at <= now)
                .order_by(tables.outbox.c.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if rows:
            await conn.execute(
                update(tables.outbox)
                .where(tables.outbox.c.id.in_([r.id for r in rows]))
                .values(next_attempt_at=now + LEASE_S)
            )
        return [(r.id, r.body, r.attempts) for r in rows]

    batch = await records.once(store, lease)
    if not batch:
        return 0
    body = b"[" + b",".join(b.encode() for _, b, _ in batch) + b"]"
    headers = {"content-type": CONTENT_TYPE}
    if ingest.token:
        headers["authorization"] = f"Bearer {ingest.token}"
    try:
        answer = await client.post(ingest.url, content=body, headers=headers)
        accepted = answer.is_success
    except httpx.HTTPError:
        accepted = False
    ids = [i for i, _, _ in batch]

    async def settle(conn: AsyncConnection) -> None:
        if accepted:
            await conn.execute(
                update(tables.outbox).where(tables.outbox.c.id.in_(ids)).values(sent_at=now)
            )
            return
        attempts = max(a for _, _, a in batch) + 1
        await conn.execute(
            update(tables.outbox)
            .where(tables.outbox.c.id.in_(ids))
            .values(attempts=attempts, next_attempt_at=now + backoff_s(attempts))
        )

    await records.once(store, settle)
    if not accepted:
        metrics.metering_errors.inc()
        return 0
    metrics.metering_sent.inc(len(batch))
    return len(batch)


async def export_forever(
    store: Store, ingest: Ingest, metrics: BillingMetrics, clock: Clock, every_s: float = 10.0
) -> None:
    """The export loop each serving process runs when metering is on (the app's lifespan)."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        while True:
            now = int(clock.now().timestamp())
            try:
                await fill_outbox(store, now)
                while await send_due(store, client, ingest, metrics, now):
                    pass
            except Exception as exc:  # a database hiccup: the next round retries
                logs.get().error(
                    "metering export failed", extra=logs.fields(error=type(exc).__name__)
                )
            await asyncio.sleep(every_s)
