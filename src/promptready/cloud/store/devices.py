"""Devices: registration with its sticky cohort and empty wallet, the per-client registration
limit, lookups, freezing and plans."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from promptready.cloud.cohorts import assign_cohort
from promptready.cloud.ratelimit import MICROS, Gcra
from promptready.cloud.records import Device
from promptready.cloud.schema import devices, rate_limits, wallets
from promptready.cloud.store.checks import PLANS
from promptready.cloud.store.core import StoreCore
from promptready.cloud.store.refusals import DeviceExists, DeviceUnknown, RegistrationLimited
from promptready.cloud.store.rows import device_record, wallet_query


class Devices(StoreCore):
    """Devices: registration (rate-limited per client), lookups, freeze and plan."""

    async def register_device(
        self, device_id: uuid.UUID, secret_hash: bytes, client_key: str
    ) -> Device:
        """Create a device with its sticky cohort and an empty wallet (its free credits arrive
        with the first call of the month); registrations are rate-limited per ``client_key``."""
        now = self._clock.now()
        cohort = assign_cohort(device_id, self._settings.cohorts).name
        async with self._write() as conn:
            created = await conn.execute(
                self._insert(devices)
                .values(
                    id=device_id,
                    secret_hash=secret_hash,
                    cohort=cohort,
                    plan="free",
                    created_at=int(now.timestamp()),
                )
                .on_conflict_do_nothing()
                .returning(devices.c.id)
            )
            if created.first() is None:
                raise DeviceExists
            if self._registration_rate is not None:
                # The client key (an address) is stored only as a hash.
                digest = hashlib.sha256(client_key.encode()).hexdigest()[:40]
                wait = await self._take(conn, f"register:{digest}", self._registration_rate, now)
                if wait is not None:
                    raise RegistrationLimited(wait)
            await conn.execute(
                insert(wallets).values(
                    device_id=device_id,
                    balance=0,
                    reserved=0,
                    free=0,
                    purchased=0,
                    subscription=0,
                    free_month="",
                    frozen=False,
                    tat_us=0,
                )
            )
        return Device(device_id, cohort, "free", False, now.replace(microsecond=0))

    async def _take(
        self, conn: AsyncConnection, key: str, rate: Gcra, now: datetime
    ) -> float | None:
        """Take one slot of ``rate`` for ``key``: None when allowed, else seconds to wait."""
        now_us = int(now.timestamp() * MICROS)
        params = {"p_key": key, "p_first": now_us + rate.interval_us, **rate.params(now_us)}
        if (await conn.execute(self._rate_upsert, params)).first() is not None:
            return None
        tat = await conn.scalar(select(rate_limits.c.tat_us).where(rate_limits.c.key == key))
        return rate.retry_after_s(int(tat or 0), now_us)

    async def device(self, device_id: uuid.UUID) -> Device | None:
        """The device, or None when unknown."""
        async with self._read() as conn:
            row = (await conn.execute(wallet_query(device_id, lock=False))).first()
        return None if row is None else device_record(row)

    async def secret_hash(self, device_id: uuid.UUID) -> bytes | None:
        """The stored hash of the device's secret, or None when unknown."""
        async with self._read() as conn:
            found = await conn.scalar(
                select(devices.c.secret_hash).where(devices.c.id == device_id)
            )
        return None if found is None else bytes(found)

    async def set_frozen(
        self, device_id: uuid.UUID, frozen: bool, conn: AsyncConnection | None = None
    ) -> None:
        """Freeze or unfreeze the wallet (a frozen wallet admits nothing)."""
        async with self._using(conn) as c:
            done = await c.execute(
                update(wallets).where(wallets.c.device_id == device_id).values(frozen=frozen)
            )
            if done.rowcount == 0:
                raise DeviceUnknown

    async def set_plan(
        self, device_id: uuid.UUID, plan: str, conn: AsyncConnection | None = None
    ) -> None:
        """Set the device's plan ("free" or "pro")."""
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}; use one of {', '.join(sorted(PLANS))}")
        async with self._using(conn) as c:
            done = await c.execute(
                update(devices).where(devices.c.id == device_id).values(plan=plan)
            )
            if done.rowcount == 0:
                raise DeviceUnknown
