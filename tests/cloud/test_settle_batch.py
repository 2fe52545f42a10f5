"""A batch of settles (on PostgreSQL one set-based statement) answers and leaves the wallets,
the ledger and the idempotency keys exactly as the same settles run one after another would:
several wallets, several holds of one wallet (the overdraft then depends on the earlier
debits), a hold already settled, and one settle that fails alone."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg  # type: ignore[import-untyped]
import pytest

from promptready.cloud.clock import FixedClock
from promptready.cloud.store import Admission, Bucket, CreditsView, LedgerKind, Replay, Store
from tests.cloud.conftest import StoreFactory
from tests.cloud.wallets import hold, new_device, store_settings, usage

DECEMBER = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
ANSWER = Replay(200, b'{"ok": true}', "application/json")
# Settles gathered together form one batch: all are queued before the batch first runs.
Settle = tuple[int, int, int]  # (which device, credits held, credits used)


def _seen(view: CreditsView) -> tuple[object, ...]:
    """A view without its device id (the twin devices' answers are compared)."""
    return view.balance, view.reserved, view.available, view.buckets, view.frozen


async def _debits(store: Store, device_id: uuid.UUID) -> list[tuple[object, ...]]:
    entries = await store.ledger(device_id)
    return [(e.bucket, e.delta, e.reason) for e in entries if e.kind is LedgerKind.DEBIT]


async def _twins(
    store: Store, count: int, subscription: int
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """``count`` devices and an identical twin of each: 25 free, 10 purchased credits and
    ``subscription`` credits lapsing in two days (spent first)."""
    devices = [await new_device(store, purchased=10) for _ in range(2 * count)]
    for device_id in devices if subscription else []:
        await store.grant(
            device_id,
            subscription,
            bucket=Bucket.SUBSCRIPTION,
            kind=LedgerKind.GRANT,
            idem_key=f"sub:{device_id}",
            reason="Pro",
            expires_at=DECEMBER + timedelta(days=2),
        )
    return devices[:count], devices[count:]


async def _batch_against_sequence(
    store: Store, plan: list[Settle], devices: int, subscription: int = 0
) -> None:
    """Settle ``plan`` as one batch on some devices and one settle at a time on their twins;
    the answers, wallets and ledgers must agree."""
    batched, sequential = await _twins(store, devices, subscription)
    outcomes: list[list[CreditsView]] = []
    for wallets, together in ((batched, True), (sequential, False)):
        admitted = [await hold(store, wallets[d], held) for d, held, _ in plan]
        used = [usage(credits) for _, _, credits in plan]
        runs = [store.settle(a.hold_id, u) for a, u in zip(admitted, used, strict=True)]
        if together:
            outcomes.append(list(await asyncio.gather(*runs)))
        else:
            outcomes.append([await run for run in runs])
    assert [_seen(v) for v in outcomes[0]] == [_seen(v) for v in outcomes[1]]
    for one, twin in zip(batched, sequential, strict=True):
        assert _seen(await store.credits(one)) == _seen(await store.credits(twin))
        assert await _debits(store, one) == await _debits(store, twin)
    assert await store.check_invariants() == []


async def test_several_holds_of_one_wallet_are_debited_one_after_another(
    make_store: StoreFactory,
) -> None:
    store = await make_store(overdraft_credits=3)
    # 35 credits: 20 used of 10 held fits; the next 20 of 10 only down to -3 (charged 13);
    # within its hold the last is charged fully, whatever the balance.
    plan = [(0, 10, 20), (0, 10, 20), (0, 10, 9), (0, 5, 0)]
    await _batch_against_sequence(store, plan, devices=1)


async def test_subscription_credits_lapsing_first_are_taken_first_across_a_batch(
    make_store: StoreFactory,
) -> None:
    store = await make_store(clock=FixedClock(DECEMBER), overdraft_credits=2)
    plan = [(0, 4, 6), (0, 10, 12), (0, 10, 30), (0, 10, 10), (0, 2, 2)]
    await _batch_against_sequence(store, plan, devices=1, subscription=8)


async def test_a_batch_mixing_wallets_settles_each_in_turn(make_store: StoreFactory) -> None:
    store = await make_store()
    plan = [(0, 5, 7), (1, 10, 2), (0, 20, 30), (2, 1, 1), (1, 10, 10), (0, 3, 3)]
    await _batch_against_sequence(store, plan, devices=3)


async def test_a_hold_already_settled_answers_with_the_wallet_and_charges_once(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device = await new_device(store)
    first, again, last = [await hold(store, device, 2) for _ in range(3)]
    settled = await store.settle(again.hold_id, usage(2))
    views = await asyncio.gather(*(store.settle(a.hold_id, usage(2)) for a in (first, again, last)))
    assert settled.balance == 23
    assert (views[0].balance, views[2].balance) == (21, 19)
    assert views[1].balance in (21, 19)  # the wallet as it is (after its batch, if batched)
    final = await store.credits(device)
    assert (final.balance, final.reserved) == (19, 0)
    assert len(await _debits(store, device)) == 3


async def test_each_settle_of_a_batch_answers_its_own_idempotency_key(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device = await new_device(store)
    keys = ["answered", "forgotten"]
    admitted = [
        await store.admit(device, credits=1, cost_usd=Decimal("0.001"), idempotency_key=k)
        for k in keys
    ]
    assert all(isinstance(a, Admission) for a in admitted)
    await asyncio.gather(
        store.settle(admitted[0].hold_id, usage(1), response=ANSWER),  # type: ignore[union-attr]
        store.settle(admitted[1].hold_id, usage(1)),  # type: ignore[union-attr]
    )
    replayed = await store.admit(
        device, credits=1, cost_usd=Decimal("0.001"), idempotency_key="answered"
    )
    assert replayed == ANSWER
    fresh = await store.admit(
        device, credits=1, cost_usd=Decimal("0.001"), idempotency_key="forgotten"
    )
    assert isinstance(fresh, Admission)
    await store.release(fresh.hold_id)


async def test_one_settle_that_fails_fails_alone_and_the_rest_of_its_batch_is_charged(
    migrated_postgres_url: str,
) -> None:
    store = await Store.open(migrated_postgres_url, store_settings())
    try:
        device = await new_device(store)
        admitted = [await hold(store, device, 2) for _ in range(3)]
        # usage_events.model holds 100 characters on PostgreSQL: this event cannot be written.
        bad = replace(usage(2), model="m" * 101)
        outcomes = await asyncio.gather(
            store.settle(admitted[0].hold_id, usage(2)),
            store.settle(admitted[1].hold_id, bad),
            store.settle(admitted[2].hold_id, usage(2)),
            return_exceptions=True,
        )
        assert isinstance(outcomes[1], asyncpg.StringDataRightTruncationError)
        assert [o.balance for o in outcomes if isinstance(o, CreditsView)] == [23, 21]
        final = await store.credits(device)
        assert (final.balance, final.reserved) == (21, 2)  # the failed settle's hold is open
        await store.release(admitted[1].hold_id)
        assert await store.check_invariants() == []
    finally:
        await store.close()


@pytest.mark.parametrize("count", [2, 64])
async def test_a_batch_of_one_wallet_leaves_balance_the_sum_of_its_ledger(
    make_store: StoreFactory, count: int
) -> None:
    store = await make_store()
    device = await new_device(store, purchased=200)
    admitted = [await hold(store, device, 3) for _ in range(count)]
    await asyncio.gather(*(store.settle(a.hold_id, usage(2)) for a in admitted))
    final = await store.credits(device)
    assert (final.balance, final.reserved) == (225 - 2 * count, 0)
    assert await store.check_invariants() == []
