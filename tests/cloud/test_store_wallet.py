"""Wallet rules on SQLite and PostgreSQL: exact credits, the free monthly top-up, grants,
revokes and debts, buckets spent in expiry order, the BYOK migration and its budget."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from promptready.cloud.clock import FixedClock
from promptready.cloud.store import (
    AlreadyClaimed,
    Bucket,
    DeviceExists,
    DeviceUnknown,
    GrantBudgetExhausted,
    InsufficientCredits,
    LedgerKind,
    RegistrationLimited,
    Store,
    WalletFrozen,
)
from tests.cloud.conftest import StoreFactory
from tests.cloud.wallets import new_device, spend

DECEMBER = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


async def test_a_new_device_gets_its_cohort_and_25_free_credits_on_first_look(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = uuid.uuid4()
    device = await store.register_device(device_id, b"hash", "198.51.100.1")
    view = await store.credits(device_id)
    assert device.plan == "free" and device.cohort in {"A", "B", "C"}
    assert (view.balance, view.available, view.reserved) == (25, 25, 0)
    assert view.buckets == {Bucket.FREE: 25, Bucket.PURCHASED: 0, Bucket.SUBSCRIPTION: 0}
    assert await store.secret_hash(device_id) == b"hash"


async def test_registering_an_existing_device_is_refused(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = uuid.uuid4()
    await store.register_device(device_id, b"hash", "198.51.100.1")
    with pytest.raises(DeviceExists):
        await store.register_device(device_id, b"other", "198.51.100.1")
    assert await store.secret_hash(device_id) == b"hash"


async def test_registrations_are_limited_per_client_key(make_store: StoreFactory) -> None:
    store = await make_store(registrations_per_hour=3)
    for _ in range(3):
        await store.register_device(uuid.uuid4(), b"h", "198.51.100.1")
    refused = uuid.uuid4()
    with pytest.raises(RegistrationLimited) as caught:
        await store.register_device(refused, b"h", "198.51.100.1")
    assert 0 < caught.value.retry_after_s <= 1200
    assert await store.device(refused) is None
    await store.register_device(uuid.uuid4(), b"h", "198.51.100.2")


async def test_the_free_top_up_is_to_25_once_a_month_not_cumulative(
    make_store: StoreFactory,
) -> None:
    clock = FixedClock(DECEMBER)
    store = await make_store(clock=clock)
    device_id = await new_device(store)
    await spend(store, device_id, 10)
    assert (await store.credits(device_id)).balance == 15
    clock.advance(3600)
    assert (await store.credits(device_id)).balance == 15
    clock.set(datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert (await store.credits(device_id)).buckets[Bucket.FREE] == 25
    clock.set(datetime(2027, 2, 3, tzinfo=UTC))
    assert (await store.credits(device_id)).balance == 25
    grants = [e.delta for e in await store.ledger(device_id) if e.kind is LedgerKind.GRANT]
    assert grants == [25, 10]


async def test_a_pro_device_gets_no_free_top_up(make_store: StoreFactory) -> None:
    clock = FixedClock(DECEMBER)
    store = await make_store(clock=clock)
    device_id = uuid.uuid4()
    await store.register_device(device_id, b"h", "198.51.100.1")
    await store.set_plan(device_id, "pro")
    assert (await store.credits(device_id)).balance == 0


async def test_a_grant_with_a_used_key_is_applied_once(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store)
    first = await store.grant(
        device_id,
        250,
        bucket=Bucket.PURCHASED,
        kind=LedgerKind.PURCHASE,
        idem_key="pay:1",
        reason="Starter",
    )
    again = await store.grant(
        device_id,
        250,
        bucket=Bucket.PURCHASED,
        kind=LedgerKind.PURCHASE,
        idem_key="pay:1",
        reason="Starter",
    )
    assert (first, again) == (True, False)
    assert (await store.credits(device_id)).buckets[Bucket.PURCHASED] == 250


async def test_a_grant_to_an_unknown_device_is_refused(make_store: StoreFactory) -> None:
    store = await make_store()
    with pytest.raises(DeviceUnknown):
        await store.grant(
            uuid.uuid4(), 5, bucket=Bucket.FREE, kind=LedgerKind.GRANT, idem_key="x", reason="r"
        )


@pytest.mark.parametrize("credits", [0, -5])
async def test_a_grant_of_no_credits_is_an_error(make_store: StoreFactory, credits: int) -> None:
    store = await make_store()
    device_id = await new_device(store)
    with pytest.raises(ValueError, match="positive"):
        await store.grant(
            device_id, credits, bucket=Bucket.FREE, kind=LedgerKind.GRANT, idem_key="x", reason="r"
        )


async def test_a_revoke_after_spending_leaves_a_debt_that_blocks_paid_calls(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = await new_device(store, purchased=100)
    await spend(store, device_id, 110, "0.05")
    assert await store.revoke(
        device_id, 100, kind=LedgerKind.REFUND, idem_key="refund:1", reason="refund"
    )
    assert not await store.revoke(
        device_id, 100, kind=LedgerKind.REFUND, idem_key="refund:1", reason="refund"
    )
    view = await store.credits(device_id)
    assert view.balance == 15 - 100
    with pytest.raises(InsufficientCredits) as caught:
        await store.admit(device_id, credits=1, cost_usd=Decimal("0.001"), idempotency_key=None)
    assert (caught.value.available, caught.value.required) == (-85, 1)


async def test_a_debit_larger_than_the_balance_is_refused_and_writes_nothing(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = await new_device(store)
    before = await store.ledger(device_id)
    with pytest.raises(InsufficientCredits):
        await store.admit(device_id, credits=26, cost_usd=Decimal("0.01"), idempotency_key=None)
    assert await store.ledger(device_id) == before
    assert (await store.weekly_spend()).reserved_usd == 0
    assert (await store.stats()).open_holds == 0


async def test_credits_are_exact_integers_over_many_small_debits(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store, purchased=975)
    for _ in range(100):
        await spend(store, device_id, 10, "0.000013")
    assert (await store.credits(device_id)).balance == 0
    assert (await store.weekly_spend()).committed_usd == Decimal("0.001300")


async def test_free_credits_are_spent_before_purchased_ones(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store, purchased=100)
    view = await spend(store, device_id, 30, "0.01")
    assert view.buckets == {Bucket.FREE: 0, Bucket.PURCHASED: 95, Bucket.SUBSCRIPTION: 0}


async def _with_subscription_ending_in_two_days(store: Store) -> uuid.UUID:
    """A device with its 25 free credits and 40 subscription credits lapsing on 11 December."""
    device_id = await new_device(store)
    await store.grant(
        device_id,
        40,
        bucket=Bucket.SUBSCRIPTION,
        kind=LedgerKind.GRANT,
        idem_key=f"sub:{device_id}",
        reason="Pro",
        expires_at=DECEMBER + timedelta(days=2),
    )
    return device_id


async def test_subscription_credits_expiring_before_month_end_are_spent_first(
    make_store: StoreFactory,
) -> None:
    clock = FixedClock(DECEMBER)
    store = await make_store(clock=clock)
    device_id = await _with_subscription_ending_in_two_days(store)
    view = await spend(store, device_id, 30, "0.01")
    assert view.buckets == {Bucket.FREE: 25, Bucket.PURCHASED: 0, Bucket.SUBSCRIPTION: 10}


async def test_lapsed_subscription_credits_expire_through_the_ledger(
    make_store: StoreFactory,
) -> None:
    clock = FixedClock(DECEMBER)
    store = await make_store(clock=clock)
    device_id = await _with_subscription_ending_in_two_days(store)
    clock.advance(3 * 86_400)
    with pytest.raises(InsufficientCredits):
        await store.admit(device_id, credits=30, cost_usd=Decimal("0.01"), idempotency_key=None)
    assert (await store.credits(device_id)).balance == 25
    expiry = (await store.ledger(device_id))[-1]
    assert (expiry.kind, expiry.bucket, expiry.delta) == (
        LedgerKind.EXPIRY,
        Bucket.SUBSCRIPTION,
        -40,
    )


async def test_a_frozen_wallet_admits_nothing(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store)
    await store.set_frozen(device_id, True)
    with pytest.raises(WalletFrozen):
        await store.admit(device_id, credits=1, cost_usd=Decimal("0.001"), idempotency_key=None)
    await store.set_frozen(device_id, False)
    await store.admit(device_id, credits=1, cost_usd=Decimal("0.001"), idempotency_key=None)
    await store.expire_holds()


async def test_the_byok_migration_grants_500_once(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store)
    assert await store.claim_byok_migration(device_id) == 500
    with pytest.raises(AlreadyClaimed):
        await store.claim_byok_migration(device_id)
    assert (await store.credits(device_id)).balance == 525


async def test_byok_migrations_stop_at_the_monthly_grant_budget(make_store: StoreFactory) -> None:
    # Three free top-ups (75) and two migrations (1000) fit; a third migration does not.
    store = await make_store(grant_budget_month=1075)
    first, second, third = [await new_device(store) for _ in range(3)]
    await store.claim_byok_migration(first)
    await store.claim_byok_migration(second)
    with pytest.raises(GrantBudgetExhausted):
        await store.claim_byok_migration(third)
    assert (await store.credits(third)).balance == 25


async def test_the_ledger_refuses_update_and_delete(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store)
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    from promptready.cloud.schema import ledger

    for statement in (update(ledger).values(delta=1000), delete(ledger)):
        with pytest.raises(DBAPIError, match="append-only"):
            async with store.transaction() as conn:
                await conn.execute(statement)
    assert [e.delta for e in await store.ledger(device_id)] == [25]


async def test_free_top_ups_stop_at_the_monthly_grant_budget(make_store: StoreFactory) -> None:
    clock = FixedClock(DECEMBER)
    store = await make_store(clock=clock, grant_budget_month=60)
    first, second, third = [await new_device(store) for _ in range(3)]
    assert [(await store.credits(d)).balance for d in (first, second, third)] == [25, 25, 0]
    with pytest.raises(InsufficientCredits):
        await store.admit(third, credits=1, cost_usd=Decimal(0), idempotency_key=None)
    clock.set(datetime(2027, 1, 2, tzinfo=UTC))
    assert (await store.credits(third)).balance == 25


async def test_this_months_use_counts_the_debits_of_this_calendar_month_only(
    make_store: StoreFactory,
) -> None:
    clock = FixedClock(DECEMBER)
    store = await make_store(clock=clock)
    device_id = await new_device(store, purchased=100)
    assert (await store.credits(device_id)).used_month == 0  # grants and purchases are no use
    await spend(store, device_id, 10)
    await spend(store, device_id, 4)
    assert (await store.credits(device_id)).used_month == 14
    clock.set(datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert (await store.credits(device_id)).used_month == 0  # a new month (and its top-up)
    await spend(store, device_id, 3)
    assert (await store.credits(device_id)).used_month == 3
