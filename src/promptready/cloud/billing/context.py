"""What a billing effect runs with: the services and the open transaction, the steps every
effect shares (grant a payment, take one back, flag, notify), and how the effect ended."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud import schema
from promptready.cloud.billing import records
from promptready.cloud.billing.deps import BillingDeps
from promptready.cloud.store import Bucket, LedgerKind


class Outcome(enum.StrEnum):
    """How a webhook or a session poll ended (the label of the webhook counter)."""

    APPLIED = "applied"
    REPLAYED = "replayed"
    IGNORED = "ignored"
    PENDING = "pending"
    REVIEW = "review"


@dataclass(frozen=True)
class Context:
    """One effect's world: services, transaction, the time and where it came from."""

    deps: BillingDeps
    conn: AsyncConnection
    now: int
    source: str  # the event id, or "poll:<session>" for the success-page confirmation

    async def known(self, device_id: uuid.UUID | None) -> bool:
        """Whether the store has registered ``device_id`` (read in this transaction; the store's
        own calls take another connection, which must not wait on this one)."""
        if device_id is None:
            return False
        found = await self.conn.scalar(
            select(schema.devices.c.id).where(schema.devices.c.id == device_id)
        )
        return found is not None

    async def flag(self, object_id: str, reason: str) -> Outcome:
        """Grant nothing and put the case in front of a person."""
        await records.flag(self.conn, self.source, object_id, reason, self.now)
        return Outcome.REVIEW

    async def grant_payment(self, paid: records.Payment, bucket: Bucket, reason: str) -> None:
        """Grant a payment's credits and record the payment, under one key (``paid.key``)."""
        if paid.credits:
            await self.deps.store.grant(
                paid.device_id,
                paid.credits,
                bucket=bucket,
                kind=LedgerKind.PURCHASE,
                idem_key=paid.key,
                reason=reason,
                conn=self.conn,
            )
        await records.record_payment(self.conn, paid)

    async def take_back(
        self, paid: records.Payment, key: str, *, credits: int, amount: int, reason: str
    ) -> None:
        """Revoke credits of a refunded or lost payment (the wallet may go into debt) and
        record the clawback, under one key."""
        if credits > 0:
            await self.deps.store.revoke(
                paid.device_id,
                credits,
                kind=LedgerKind.REFUND,
                idem_key=key,
                reason=reason,
                conn=self.conn,
            )
        await records.record_clawback(
            self.conn, key, paid, amount=amount, credits=max(0, credits), now=self.now
        )

    async def notify(self, device_id: uuid.UUID, kind: str, message: str) -> None:
        """Tell the user (``GET /api/v1/billing/status`` lists these)."""
        await records.notify(self.conn, device_id, kind, message, self.now)
