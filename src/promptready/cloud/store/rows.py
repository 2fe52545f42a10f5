"""The wallet as the store reads it: the joined device and wallet query, and the records built
from its rows (pure: no connection here)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from promptready.cloud.records import CreditsView, Device
from promptready.cloud.schema import devices, ledger, wallets
from promptready.cloud.wallet import LedgerKind, WalletState

DEVICE_COLUMNS = (
    devices.c.id,
    devices.c.cohort,
    devices.c.plan,
    devices.c.created_at,
    wallets.c.frozen,
)
WALLET_COLUMNS = (
    wallets.c.balance,
    wallets.c.reserved,
    wallets.c.free,
    wallets.c.purchased,
    wallets.c.subscription,
    wallets.c.subscription_expires_at,
    wallets.c.free_month,
    wallets.c.tat_us,
)


def wallet_query(device_id: uuid.UUID, *, lock: bool) -> Any:
    query = (
        select(*DEVICE_COLUMNS, *WALLET_COLUMNS)
        .select_from(devices.join(wallets, wallets.c.device_id == devices.c.id))
        .where(devices.c.id == device_id)
    )
    return query.with_for_update(of=wallets) if lock else query


def shown_wallet_query(device_id: uuid.UUID, since_s: int) -> Any:
    """The wallet with the credits debited since ``since_s`` (a subquery: still one statement,
    over the ledger's (device_id, id) index)."""
    used = (
        select(func.coalesce(-func.sum(ledger.c.delta), 0))
        .where(
            ledger.c.device_id == devices.c.id,
            ledger.c.kind == LedgerKind.DEBIT.value,
            ledger.c.created_at >= since_s,
        )
        .scalar_subquery()
    )
    return wallet_query(device_id, lock=False).add_columns(used.label("used_month"))


def used_month(value: Any) -> int | None:
    return None if value is None else int(value)


def credits_view(row: Any) -> CreditsView:
    state = WalletState.from_row(row)
    return CreditsView(
        device_id=row.id,
        balance=state.balance,
        reserved=int(row.reserved),
        available=state.balance - int(row.reserved),
        buckets=state.buckets(),
        cohort=row.cohort,
        plan=row.plan,
        frozen=bool(row.frozen),
        used_month=used_month(row._mapping.get("used_month")),
    )


def device_record(row: Any) -> Device:
    return Device(
        id=row.id,
        cohort=row.cohort,
        plan=row.plan,
        frozen=bool(row.frozen),
        created_at=datetime.fromtimestamp(int(row.created_at), tz=UTC),
    )
