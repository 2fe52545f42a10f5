"""Resolving holds, each at most once: settle (the debit split over buckets, spend committed,
the usage event, the idempotency answer), release, and expiry through the release path."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud import breaker, hotpath, wallet
from promptready.cloud.breaker import to_micro
from promptready.cloud.holds import EXPIRED, HOLDER, IDEM_ANSWER, IDEM_FORGET, RESOLVE, HoldState
from promptready.cloud.records import CreditsView, Replay, UsageRecord
from promptready.cloud.store.checks import check_usage
from promptready.cloud.store.refusals import HoldUnknown
from promptready.cloud.store.rows import credits_view, wallet_query
from promptready.cloud.store.wallets import Wallets
from promptready.cloud.usage import INSERT_EVENT
from promptready.cloud.wallet import Bucket, WalletState

EXPIRE_BATCH = 500


class Settles(Wallets):
    """Resolving holds: settle, release and expiry, each at most once."""

    async def settle(
        self, hold_id: str, usage: UsageRecord, *, response: Replay | None = None
    ) -> CreditsView:
        """Charge the actual credits (the bucket that expires first first; beyond the hold only
        up to the overdraft), release the rest, record spend and usage; at most once."""
        check_usage(usage)
        now = self._clock.now()
        if self._fast is not None:
            settled = await self._settle_fast(hold_id, usage, response, now)
            if settled is not None:
                return settled
        async with self._write() as conn:
            hold = (
                await conn.execute(RESOLVE, {"p_hold": hold_id, "p_state": HoldState.SETTLED.value})
            ).first()
            if hold is None:
                return await self._resolved_view(conn, hold_id)
            # Locks are taken in admit's order everywhere: spend shard, then wallet.
            await conn.execute(
                breaker.RESOLVE,
                {
                    "p_week": hold.week,
                    "p_shard": hold.shard,
                    "p_reserved": hold.cost_micro,
                    "p_committed": to_micro(usage.cost_usd),
                },
            )
            row = (await conn.execute(wallet_query(hold.device_id, lock=True))).one()
            state = WalletState.from_row(row)
            charged = wallet.chargeable(
                usage.credits, int(hold.credits), state.balance, self._settings.overdraft_credits
            )
            reason = wallet.debit_reason(f"{usage.model} ({usage.cohort})", charged, usage.credits)
            after, moves = wallet.debit(state, charged, now, reason)
            await self._record(conn, hold.device_id, moves, f"{hold_id}", now)
            await self._store_state(conn, hold.device_id, after, unreserve=int(hold.credits))
            await conn.execute(
                INSERT_EVENT,
                {
                    "device_hash": hold.device_hash,
                    "week": hold.week,
                    "cohort": usage.cohort,
                    "model": usage.model,
                    "status": usage.status,
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                    "cost_micro": to_micro(usage.cost_usd),
                    "credits": charged,
                    "latency_ms": usage.latency_ms,
                    "ts": int(now.timestamp()),
                },
            )
            if hold.idem_key is not None:
                await self._answer_key(conn, hold.device_id, hold.idem_key, hold_id, response)
            reserved = int(row.reserved) - int(hold.credits)
        return CreditsView(
            device_id=hold.device_id,
            balance=after.balance,
            reserved=reserved,
            available=after.balance - reserved,
            buckets=after.buckets(),
            cohort=row.cohort,
            plan=row.plan,
            frozen=bool(row.frozen),
        )

    async def _settle_fast(
        self, hold_id: str, usage: UsageRecord, response: Replay | None, now: datetime
    ) -> CreditsView | None:
        """PostgreSQL's one-statement settle; None when the hold was not open (the portable
        path then answers with the wallet as it is, or HoldUnknown)."""
        assert self._fast is not None
        params: dict[str, Any] = {
            "p_hold": hold_id,
            "p_state": HoldState.SETTLED.value,
            "p_committed": to_micro(usage.cost_usd),
            "p_actual": usage.credits,
            "p_overdraft": self._settings.overdraft_credits,
            "p_month_end": wallet.month_end(now),
            "p_reason": f"{usage.model} ({usage.cohort})",
            "p_now_s": int(now.timestamp()),
            "cohort": usage.cohort,
            "model": usage.model,
            "status": usage.status,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "latency_ms": usage.latency_ms,
            "p_answer": response is not None,
            "p_status": None if response is None else response.status,
            "p_body": None if response is None else response.body,
            "p_type": None if response is None else response.content_type,
        }
        row = (
            await self._batches.settle(params)
            if self._batches is not None
            else await self._run_hot(self._fast_settle, params)
        )
        if row is None:
            return None
        buckets = {
            Bucket.FREE: int(row["free"]),
            Bucket.PURCHASED: int(row["purchased"]),
            Bucket.SUBSCRIPTION: int(row["subscription"]),
        }
        return CreditsView(
            device_id=row["device_id"],
            balance=int(row["balance"]),
            reserved=int(row["reserved"]),
            available=int(row["balance"]) - int(row["reserved"]),
            buckets=buckets,
            cohort=row["cohort"],
            plan=row["plan"],
            frozen=bool(row["frozen"]),
        )

    async def _run_hot(self, statement: hotpath.Prepared, params: dict[str, Any]) -> Any:
        """One hot statement in autocommit through SQLAlchemy (psycopg; asyncpg batches them):
        a row (mapping by column name) or None."""
        assert self._fast is not None
        async with self._fast.connect() as conn:
            row = (await conn.execute(statement.statement, params)).first()
        return None if row is None else row._mapping

    async def _answer_key(
        self,
        conn: AsyncConnection,
        device_id: uuid.UUID,
        key: str,
        hold_id: str,
        response: Replay | None,
    ) -> None:
        owner = {"p_device": device_id, "p_key": key, "p_hold": hold_id}
        if response is None:
            await conn.execute(IDEM_FORGET, owner)
            return
        await conn.execute(
            IDEM_ANSWER,
            {
                **owner,
                "p_status": response.status,
                "p_body": response.body,
                "p_type": response.content_type,
            },
        )

    async def _resolved_view(self, conn: AsyncConnection, hold_id: str) -> CreditsView:
        device_id = await conn.scalar(HOLDER, {"p_hold": hold_id})
        if device_id is None:
            raise HoldUnknown
        row = (await conn.execute(wallet_query(device_id, lock=False))).one()
        return credits_view(row)

    async def release(self, hold_id: str) -> None:
        """Release a hold without charging (at most once)."""
        async with self._write() as conn:
            if not await self._release(conn, hold_id, HoldState.RELEASED):
                await self._resolved_view(conn, hold_id)

    async def _release(self, conn: AsyncConnection, hold_id: str, state: HoldState) -> bool:
        """Give a hold's credits and estimate back; False when it was already resolved."""
        hold = (await conn.execute(RESOLVE, {"p_hold": hold_id, "p_state": state.value})).first()
        if hold is None:
            return False
        await conn.execute(
            breaker.RESOLVE,
            {
                "p_week": hold.week,
                "p_shard": hold.shard,
                "p_reserved": hold.cost_micro,
                "p_committed": 0,
            },
        )
        await conn.execute(
            wallet.UNRESERVE, {"p_device": hold.device_id, "p_credits": hold.credits}
        )
        if hold.idem_key is not None:
            await conn.execute(
                IDEM_FORGET, {"p_device": hold.device_id, "p_key": hold.idem_key, "p_hold": hold_id}
            )
        return True

    async def expire_holds(self) -> int:
        """Release every open hold past its TTL (the release path); returns how many."""
        now_s = int(self._clock.now().timestamp())
        expired = 0
        while True:
            async with self._write() as conn:
                ids = (
                    await conn.scalars(EXPIRED, {"p_now_s": now_s, "p_limit": EXPIRE_BATCH})
                ).all()
                for hold_id in ids:
                    expired += await self._release(conn, hold_id, HoldState.EXPIRED)
            if len(ids) < EXPIRE_BATCH:
                return expired
