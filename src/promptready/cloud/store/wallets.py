"""Wallets: the balance as shown, the lazy monthly top-up and expiry, grants and revokes (each
once per idempotency key), the BYOK migration against the monthly grant budget, the ledger."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud import wallet
from promptready.cloud.records import CreditsView, LedgerEntry
from promptready.cloud.schema import grant_budget, ledger, wallets
from promptready.cloud.store.checks import check_key
from promptready.cloud.store.core import StoreCore
from promptready.cloud.store.refusals import AlreadyClaimed, DeviceUnknown, GrantBudgetExhausted
from promptready.cloud.store.rows import credits_view, shown_wallet_query, wallet_query
from promptready.cloud.wallet import Bucket, LedgerKind, Movement, WalletState, month_key


class Wallets(StoreCore):
    """Wallets: the shown balance, the lazy monthly top-up, grants, revokes and the ledger."""

    async def credits(self, device_id: uuid.UUID) -> CreditsView:
        """The wallet with this month's use, after the lazy free monthly top-up."""
        now = self._clock.now()
        shown = shown_wallet_query(device_id, wallet.month_start(now))
        async with self._read() as conn:
            row = (await conn.execute(shown)).first()
        if row is None:
            raise DeviceUnknown
        if wallet.current(WalletState.from_row(row), now):
            return credits_view(row)
        async with self._write() as conn:  # once a month: top up, then read it as shown
            await self._refreshed(conn, device_id, now)
            return credits_view((await conn.execute(shown)).one())

    async def _refreshed(self, conn: AsyncConnection, device_id: uuid.UUID, now: datetime) -> Any:
        """Lock the wallet, apply the monthly top-up and expiry, and return the row."""
        row = (await conn.execute(wallet_query(device_id, lock=True))).first()
        if row is None:
            raise DeviceUnknown
        state = WalletState.from_row(row)
        if wallet.current(state, now):
            return row
        after, moves = wallet.refresh(
            state, now, plan=row.plan, free_month_credits=self._free_month
        )
        top_up = sum(m.delta for m in moves if m.kind is LedgerKind.GRANT)
        if top_up and not await self._take_budget(conn, after.free_month, top_up):
            # The month's free-grant budget is spent: the month passes without a top-up.
            after, moves = wallet.refresh(state, now, plan=row.plan, free_month_credits=0)
        ref = f"{device_id}:{after.free_month}:{state.subscription_expires_at}"
        await self._record(conn, device_id, moves, ref, now)
        await self._store_state(conn, device_id, after)
        return (await conn.execute(wallet_query(device_id, lock=False))).one()

    async def _record(
        self,
        conn: AsyncConnection,
        device_id: uuid.UUID,
        moves: list[Movement],
        ref: str,
        now: datetime,
    ) -> None:
        """Append ledger rows; each is keyed ``kind:ref:bucket`` so it can happen only once."""
        if not moves:
            return
        await conn.execute(
            insert(ledger),
            [
                {
                    "device_id": device_id,
                    "kind": m.kind.value,
                    "bucket": m.bucket.value,
                    "delta": m.delta,
                    "idem_key": f"{m.kind.value}:{ref}:{m.bucket.value}",
                    "reason": m.reason,
                    "created_at": int(now.timestamp()),
                }
                for m in moves
            ],
        )

    async def _store_state(
        self, conn: AsyncConnection, device_id: uuid.UUID, state: WalletState, unreserve: int = 0
    ) -> None:
        await conn.execute(
            update(wallets)
            .where(wallets.c.device_id == device_id)
            .values(
                balance=state.balance,
                free=state.free,
                purchased=state.purchased,
                subscription=state.subscription,
                subscription_expires_at=state.subscription_expires_at,
                free_month=state.free_month,
                reserved=wallets.c.reserved - unreserve,
            )
        )

    async def grant(
        self,
        device_id: uuid.UUID,
        credits: int,
        *,
        bucket: Bucket,
        kind: LedgerKind,
        idem_key: str,
        reason: str,
        expires_at: datetime | None = None,
        conn: AsyncConnection | None = None,
    ) -> bool:
        """Add credits to a bucket; False when ``idem_key`` was already applied."""
        if credits <= 0:
            raise ValueError("a grant must be a positive number of credits")
        check_key(idem_key)
        async with self._using(conn) as c:
            row = (await c.execute(wallet_query(device_id, lock=True))).first()
            if row is None:
                raise DeviceUnknown
            if not await self._append(
                c,
                device_id,
                kind=kind,
                bucket=bucket,
                delta=credits,
                idem_key=idem_key,
                reason=reason,
            ):
                return False
            state = WalletState.from_row(row)
            buckets = state.buckets()
            buckets[bucket] += credits
            after = state.with_buckets(buckets)
            if bucket is Bucket.SUBSCRIPTION and expires_at is not None:
                after = replace(after, subscription_expires_at=int(expires_at.timestamp()))
            await self._store_state(c, device_id, after)
            return True

    async def revoke(
        self,
        device_id: uuid.UUID,
        credits: int,
        *,
        kind: LedgerKind,
        idem_key: str,
        reason: str,
        bucket: Bucket = Bucket.PURCHASED,
        conn: AsyncConnection | None = None,
    ) -> bool:
        """Take credits back, from ``bucket`` first; what it lacks becomes a debt (a negative
        purchased bucket) that blocks paid calls. False when ``idem_key`` was already applied."""
        if credits <= 0:
            raise ValueError("a revoke must be a positive number of credits")
        check_key(idem_key)
        async with self._using(conn) as c:
            row = (await c.execute(wallet_query(device_id, lock=True))).first()
            if row is None:
                raise DeviceUnknown
            state = WalletState.from_row(row)
            buckets = state.buckets()
            first = min(credits, max(buckets[bucket], 0)) if bucket is not Bucket.PURCHASED else 0
            parts = {bucket: first, Bucket.PURCHASED: credits - first}
            appended = False
            for i, (part_bucket, amount) in enumerate(parts.items()):
                if amount == 0:
                    continue
                key = idem_key if i == 0 or first == 0 else f"{idem_key}:debt"
                if not await self._append(
                    c,
                    device_id,
                    kind=kind,
                    bucket=part_bucket,
                    delta=-amount,
                    idem_key=key,
                    reason=reason,
                ):
                    return False
                buckets[part_bucket] -= amount
                appended = True
            if appended:
                await self._store_state(c, device_id, state.with_buckets(buckets))
            return appended

    async def _append(
        self,
        conn: AsyncConnection,
        device_id: uuid.UUID,
        *,
        kind: LedgerKind,
        bucket: Bucket,
        delta: int,
        idem_key: str,
        reason: str,
    ) -> bool:
        """Append one ledger row unless ``idem_key`` is taken; True when appended."""
        added = await conn.execute(
            self._insert(ledger)
            .values(
                device_id=device_id,
                kind=kind.value,
                bucket=bucket.value,
                delta=delta,
                idem_key=idem_key,
                reason=reason[:300],
                created_at=int(self._clock.now().timestamp()),
            )
            .on_conflict_do_nothing()
            .returning(ledger.c.id)
        )
        return added.first() is not None

    async def _take_budget(self, conn: AsyncConnection, month: str, credits: int) -> bool:
        """Count ``credits`` given away free this month against ``grant_budget_month``;
        False (nothing counted) when they do not fit."""
        limit = self._settings.grant_budget_month
        if credits > limit:
            return False
        taken = await conn.execute(
            self._insert(grant_budget)
            .values(month=month, granted=credits)
            .on_conflict_do_update(
                index_elements=[grant_budget.c.month],
                set_={"granted": grant_budget.c.granted + credits},
                where=grant_budget.c.granted + credits <= limit,
            )
            .returning(grant_budget.c.granted)
        )
        return taken.first() is not None

    async def claim_byok_migration(self, device_id: uuid.UUID) -> int:
        """Grant the one-off BYOK migration credits (purchased bucket, never expire) against the
        global monthly grant budget (shared with the free monthly top-ups); returns them."""
        amount = self._settings.byok_grant
        key = f"byok-migration:{device_id}"
        month = month_key(self._clock.now())
        async with self._write() as conn:
            # The wallet is locked before the budget row, as the monthly top-up does.
            if (await conn.execute(wallet_query(device_id, lock=True))).first() is None:
                raise DeviceUnknown
            if await conn.scalar(select(ledger.c.id).where(ledger.c.idem_key == key)):
                raise AlreadyClaimed
            if not await self._take_budget(conn, month, amount):
                raise GrantBudgetExhausted
            applied = await self.grant(
                device_id,
                amount,
                bucket=Bucket.PURCHASED,
                kind=LedgerKind.GRANT,
                idem_key=key,
                reason="BYOK migration",
                conn=conn,
            )
            if not applied:
                raise AlreadyClaimed
        return amount

    async def ledger(self, device_id: uuid.UUID) -> list[LedgerEntry]:
        """The device's ledger rows, oldest first."""
        async with self._read() as conn:
            rows = await conn.execute(
                select(ledger).where(ledger.c.device_id == device_id).order_by(ledger.c.id)
            )
            return [
                LedgerEntry(
                    id=r.id,
                    device_id=r.device_id,
                    kind=LedgerKind(r.kind),
                    bucket=Bucket(r.bucket),
                    delta=r.delta,
                    reason=r.reason,
                    created_at=datetime.fromtimestamp(r.created_at, tz=UTC),
                )
                for r in rows
            ]
