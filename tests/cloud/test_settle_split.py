"""The debit split is computed twice: in Python (the portable path, ``wallet.debit``) and in
SQL (PostgreSQL's one-statement settle). Both must agree with the pure rule for any wallet:
buckets, the bucket order by expiry, and the bounded overdraft."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update

from promptready.cloud import wallet
from promptready.cloud.clock import FixedClock
from promptready.cloud.schema import ledger, wallets
from promptready.cloud.store import Bucket, LedgerKind
from tests.cloud.conftest import StoreFactory
from tests.cloud.wallets import hold, new_device, usage

NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
BEFORE_MONTH_END = int((NOW + timedelta(days=3)).timestamp())
AFTER_MONTH_END = int((NOW + timedelta(days=60)).timestamp())


def _cases(count: int) -> list[tuple[wallet.WalletState, int, int]]:
    pick = random.Random(20261209)
    cases = []
    for _ in range(count):
        free, purchased, sub = pick.randint(0, 25), pick.randint(0, 50), pick.randint(0, 40)
        ends = pick.choice([None, BEFORE_MONTH_END, AFTER_MONTH_END])
        state = wallet.WalletState(free, purchased, sub, ends, "2026-12")
        if state.balance == 0:
            continue
        held = pick.randint(1, state.balance)
        actual = pick.choice([0, pick.randint(0, held), held, pick.randint(held, held + 80)])
        cases.append((state, held, actual))
    return cases


async def test_settles_split_debits_exactly_as_the_pure_rule_says(
    make_store: StoreFactory,
) -> None:
    store = await make_store(clock=FixedClock(NOW), overdraft_credits=7)
    for state, held, actual in _cases(40):
        device_id = await new_device(store)
        async with store.transaction() as conn:
            await conn.execute(
                update(wallets)
                .where(wallets.c.device_id == device_id)
                .values(
                    free=state.free,
                    purchased=state.purchased,
                    subscription=state.subscription,
                    subscription_expires_at=state.subscription_expires_at,
                    balance=state.balance,
                )
            )
            await conn.execute(
                insert(ledger).values(
                    device_id=device_id,
                    kind=LedgerKind.ADJUSTMENT.value,
                    bucket=Bucket.PURCHASED.value,
                    delta=state.balance - 25,
                    reason="test set-up",
                    created_at=int(NOW.timestamp()),
                )
            )
        admission = await hold(store, device_id, held)
        view = await store.settle(admission.hold_id, usage(actual))
        charged = wallet.chargeable(actual, held, state.balance, 7)
        expected, _ = wallet.debit(state, charged, NOW, "")
        assert view.buckets == expected.buckets(), (state, held, actual)
        assert view.balance == state.balance - charged
