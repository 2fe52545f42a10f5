"""Admitting a request in one transaction: an idempotent replay first, then the weekly breaker
(a spend shard with room), the wallet hold with the free top-up, the device rate limit and the
idempotency claim. PostgreSQL tries its one-statement (batched) path first."""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud import breaker
from promptready.cloud.breaker import Reservation, from_micro, to_micro, week_key, week_resets_at
from promptready.cloud.cohorts import assign_cohort, cohort_named
from promptready.cloud.holds import IDEM_LOOKUP, HoldState, new_hold_id
from promptready.cloud.ratelimit import MICROS
from promptready.cloud.records import Admission, Replay
from promptready.cloud.schema import holds, idempotency, weekly_spend
from promptready.cloud.store.checks import check_key
from promptready.cloud.store.refusals import (
    BreakerOpen,
    IdempotencyInFlight,
    InsufficientCredits,
    RateLimited,
    WalletFrozen,
)
from promptready.cloud.store.settle import Settles
from promptready.cloud.wallet import month_key

# Tries of "the shard with the most room" before the breaker reports open (a race can make a
# chosen shard full between the pick and the update).
ROOM_TRIES = 3


class Admits(Settles):
    """Admitting a request: replay, breaker, wallet hold, rate limit, key claim."""

    async def admit(
        self,
        device_id: uuid.UUID,
        *,
        credits: int,
        cost_usd: Decimal,
        idempotency_key: str | None,
    ) -> Admission | Replay:
        """Breaker, free top-up, wallet hold and device rate limit in one transaction."""
        if credits < 0 or cost_usd < 0:
            raise ValueError("an estimate cannot be negative")
        if idempotency_key is not None:
            check_key(idempotency_key)
        now = self._clock.now()
        cost_micro = to_micro(cost_usd)
        if self._fast is not None:
            admitted = await self._admit_fast(device_id, credits, cost_micro, idempotency_key, now)
            if admitted is not None:
                return admitted
        hold_id = new_hold_id()
        week = week_key(now)
        async with self._write() as conn:
            if idempotency_key is not None:
                # A plain read first: a replay is answered whatever the wallet or breaker say.
                replay = await self._stored_answer(conn, device_id, idempotency_key)
                if replay is not None:
                    return replay
            reservation = await self._reserve(conn, week, cost_micro, now)
            cohort_name = await self._hold_credits(conn, device_id, credits, now)
            # Claimed last, as the one-statement path does: one lock order (shard, wallet, key).
            if idempotency_key is not None and not await self._claim_key(
                conn, device_id, idempotency_key, hold_id, now
            ):
                raise IdempotencyInFlight
            await conn.execute(
                insert(holds).values(
                    id=hold_id,
                    device_id=device_id,
                    credits=credits,
                    cost_micro=cost_micro,
                    week=week,
                    shard=reservation.shard,
                    state=HoldState.OPEN.value,
                    idem_key=idempotency_key,
                    device_hash=self._hasher.device_hash(device_id),
                    created_at=int(now.timestamp()),
                    expires_at=int(now.timestamp()) + self._settings.hold_ttl_s,
                )
            )
        return self._admission(
            device_id,
            hold_id,
            credits=credits,
            cost_micro=cost_micro,
            cohort_name=cohort_name,
            reservation=reservation,
        )

    def _admission(
        self,
        device_id: uuid.UUID,
        hold_id: str,
        *,
        credits: int,
        cost_micro: int,
        cohort_name: str,
        reservation: Reservation,
    ) -> Admission:
        cohort = cohort_named(cohort_name, self._settings.cohorts) or assign_cohort(
            device_id, self._settings.cohorts
        )
        degrade = breaker.degraded(reservation, self._settings.degrade_at)
        return Admission(
            hold_id=hold_id,
            credits=credits,
            cost_usd=from_micro(cost_micro),
            cohort=cohort,
            model=self._degrade_model if degrade else cohort.model,
            degraded=degrade and self._degrade_model != cohort.model,
        )

    async def _admit_fast(
        self,
        device_id: uuid.UUID,
        credits: int,
        cost_micro: int,
        key: str | None,
        now: datetime,
    ) -> Admission | None:
        """PostgreSQL's one-statement admit; None when the portable path must decide (anything
        the statement reserved has then been released again)."""
        assert self._fast is not None
        hold_id = new_hold_id()
        shards = self._settings.spend_shards
        params: dict[str, Any] = {
            **breaker.reserve_params(
                week_key(now),
                random.randrange(shards),  # noqa: S311 (spreads load; not a secret)
                cost_micro,
                self._cap_micro,
                shards,
            ),
            **self._hold_params(device_id, credits, now),
            "p_hold": hold_id,
            "p_key": key,
            "p_hash": self._hasher.device_hash(device_id),
            "p_expires": int(now.timestamp()) + self._settings.hold_ttl_s,
        }
        row = (
            await self._batches.admit(params)
            if self._batches is not None
            else await self._run_hot(self._fast_admit, params)
        )
        assert row is not None  # the statement always answers one row
        if row["shard"] is None:
            return None
        if row["cohort"] is None or (key is not None and not row["claimed"]):
            async with self._write() as conn:
                await self._release(conn, hold_id, HoldState.RELEASED)
            return None
        reservation = Reservation(int(row["shard"]), int(row["total"]), int(row["cap"]))
        return self._admission(
            device_id,
            hold_id,
            credits=credits,
            cost_micro=cost_micro,
            cohort_name=row["cohort"],
            reservation=reservation,
        )

    def _hold_params(self, device_id: uuid.UUID, credits: int, now: datetime) -> dict[str, Any]:
        params: dict[str, Any] = {
            "p_device": device_id,
            "p_credits": credits,
            "p_month": month_key(now),
            "p_now_s": int(now.timestamp()),
        }
        if self._device_rate is not None:
            params.update(self._device_rate.params(int(now.timestamp() * MICROS)))
        return params

    async def _stored_answer(
        self, conn: AsyncConnection, device_id: uuid.UUID, key: str
    ) -> Replay | None:
        """The answer stored for ``key``; IdempotencyInFlight while its request still runs."""
        found = (await conn.execute(IDEM_LOOKUP, {"p_device": device_id, "p_key": key})).first()
        if found is None:
            return None
        if found.status is None:
            raise IdempotencyInFlight
        return Replay(int(found.status), bytes(found.body or b""), str(found.content_type or ""))

    async def _claim_key(
        self, conn: AsyncConnection, device_id: uuid.UUID, key: str, hold_id: str, now: datetime
    ) -> bool:
        """Claim ``key`` for this request; False when another request holds it."""
        claimed = await conn.execute(
            self._insert(idempotency)
            .values(device_id=device_id, key=key, hold_id=hold_id, created_at=int(now.timestamp()))
            .on_conflict_do_nothing()
            .returning(idempotency.c.hold_id)
        )
        return claimed.first() is not None

    async def _reserve(
        self, conn: AsyncConnection, week: str, cost_micro: int, now: datetime
    ) -> Reservation:
        """Reserve the estimate on a weekly-spend shard with room, or raise ``BreakerOpen``."""
        shards = self._settings.spend_shards
        params = breaker.reserve_params(
            week,
            random.randrange(shards),  # noqa: S311 (spreads load; not a secret)
            cost_micro,
            self._cap_micro,
            shards,
        )
        row = (await conn.execute(breaker.RESERVE_ON, params)).first()
        if row is None:
            await conn.execute(
                self._insert(weekly_spend).on_conflict_do_nothing(),
                breaker.week_rows(week, shards),
            )
            for _ in range(ROOM_TRIES):
                roomiest = await conn.scalar(breaker.ROOMIEST, params)
                if roomiest is None:
                    break
                row = (
                    await conn.execute(breaker.RESERVE_ON, {**params, "p_shard": roomiest})
                ).first()
                if row is not None:
                    break
            if row is None:
                raise BreakerOpen(week_resets_at(now))
        return Reservation(shard=int(row[0]), total_micro=int(row[1]), cap_micro=int(row[2]))

    async def _hold_credits(
        self, conn: AsyncConnection, device_id: uuid.UUID, credits: int, now: datetime
    ) -> str:
        """Reserve ``credits`` on the wallet and take the device's rate-limit slot; returns the
        device's cohort or raises the reason it could not."""
        params = self._hold_params(device_id, credits, now)
        cohort = await conn.scalar(self._hold, params)
        if cohort is not None:
            return str(cohort)
        row = await self._refreshed(conn, device_id, now)
        if row.frozen:
            raise WalletFrozen
        cohort = await conn.scalar(self._hold, params)
        if cohort is not None:
            return str(cohort)
        available = int(row.balance) - int(row.reserved)
        if available < credits:
            raise InsufficientCredits(available, credits)
        assert self._device_rate is not None  # the only other condition of the hold
        raise RateLimited(
            self._device_rate.retry_after_s(int(row.tat_us), int(now.timestamp() * MICROS))
        )
