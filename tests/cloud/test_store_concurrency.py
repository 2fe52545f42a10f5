"""Races on SQLite and PostgreSQL: parallel debits, concurrent holds that together exceed the
balance, a brand-new device's first burst, the weekly cap under concurrency, and limits shared
by two store instances (two engines, as two server processes would have)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

from promptready.cloud.clock import FixedClock
from promptready.cloud.store import (
    Admission,
    BreakerOpen,
    IdempotencyInFlight,
    InsufficientCredits,
    LedgerKind,
    RateLimited,
    Replay,
    Store,
    StoreError,
)
from tests.cloud.conftest import StoreFactory
from tests.cloud.wallets import new_device, usage

NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


async def _try_spend(store: Store, device_id: uuid.UUID, credits: int, cost: str) -> bool:
    try:
        admission = await store.admit(
            device_id, credits=credits, cost_usd=Decimal(cost), idempotency_key=None
        )
    except StoreError:
        return False
    assert isinstance(admission, Admission)
    await store.settle(admission.hold_id, usage(credits, cost))
    return True


async def _try_hold(store: Store, device_id: uuid.UUID, credits: int, cost: str) -> str | None:
    try:
        admission = await store.admit(
            device_id, credits=credits, cost_usd=Decimal(cost), idempotency_key=None
        )
    except (InsufficientCredits, BreakerOpen, RateLimited):
        return None
    assert isinstance(admission, Admission)
    return admission.hold_id


async def _naive_spend(store: Store, device_id: uuid.UUID, credits: int, cost: str) -> bool:
    """Check the balance, then debit: the race every wallet test must catch (billing-anchors
    §8 case 6: the naive version must fail the parallel-debit test)."""
    if (await store.credits(device_id)).available < credits:
        return False
    await store.revoke(
        device_id, credits, kind=LedgerKind.ADJUSTMENT, idem_key=str(uuid.uuid4()), reason="naive"
    )
    return True


Spend = Callable[[Store, uuid.UUID, int, str], Awaitable[bool]]


async def _parallel_debits(store: Store, device_id: uuid.UUID, attempt: Spend) -> int:
    """8 workers × 40 debits of 10 credits at once; how many succeeded."""

    async def worker() -> int:
        return sum([await attempt(store, device_id, 10, "0.0001") for _ in range(40)])

    return sum(await asyncio.gather(*(worker() for _ in range(8))))


async def test_parallel_debits_succeed_exactly_floor_balance_over_cost(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = await new_device(store, purchased=975)
    succeeded = await _parallel_debits(store, device_id, _try_spend)
    assert succeeded == 1000 // 10
    assert (await store.credits(device_id)).balance == 0


async def test_the_parallel_debit_load_catches_a_check_then_debit_wallet(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = await new_device(store, purchased=975)
    succeeded = await _parallel_debits(store, device_id, _naive_spend)
    assert succeeded > 1000 // 10  # the same load overspends a wallet that checks, then debits
    assert (await store.credits(device_id)).balance < 0


async def test_concurrent_holds_are_admitted_only_while_they_fit(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = await new_device(store, purchased=75)
    held = await asyncio.gather(*(_try_hold(store, device_id, 7, "0.01") for _ in range(20)))
    admitted = [h for h in held if h is not None]
    assert len(admitted) == 100 // 7
    view = await store.credits(device_id)
    assert (view.reserved, view.available) == (98, 2)
    for hold_id in admitted:
        await store.release(hold_id)


async def test_a_new_devices_first_burst_cannot_exceed_the_free_grant(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = uuid.uuid4()
    await store.register_device(device_id, b"h", "198.51.100.1")
    results = await asyncio.gather(*(_try_spend(store, device_id, 2, "0.001") for _ in range(30)))
    assert sum(results) == 12
    assert [e.delta for e in await store.ledger(device_id) if e.kind is LedgerKind.GRANT] == [25]
    assert (await store.credits(device_id)).balance == 1


async def test_concurrent_requests_never_push_committed_plus_reserved_over_the_cap(
    make_store: StoreFactory,
) -> None:
    store = await make_store(weekly_cap_usd=Decimal(1), spend_shards=4)
    devices = [await new_device(store, purchased=100) for _ in range(5)]
    held = await asyncio.gather(*(_try_hold(store, devices[i % 5], 1, "0.03") for i in range(60)))
    admitted = [h for h in held if h is not None]
    spend = await store.weekly_spend()
    assert spend.committed_usd + spend.reserved_usd <= Decimal(1)
    # Each of the 4 shards holds $0.25, so 8 estimates of $0.03 each.
    assert len(admitted) == 32
    for hold_id in admitted:
        await store.settle(hold_id, usage(1, "0.03"))
    assert (await store.weekly_spend()).committed_usd == Decimal("0.96")


async def test_with_one_shard_the_breaker_trips_exactly_at_the_cap_under_concurrency(
    make_store: StoreFactory,
) -> None:
    store = await make_store(weekly_cap_usd=Decimal(1), spend_shards=1)
    devices = [await new_device(store, purchased=100) for _ in range(5)]
    results = await asyncio.gather(
        *(_try_spend(store, devices[i % 5], 1, "0.03") for i in range(60))
    )
    assert sum(results) == 33
    assert (await store.weekly_spend()).committed_usd == Decimal("0.99")


async def test_the_device_rate_limit_holds_across_two_instances(make_store: StoreFactory) -> None:
    clock = FixedClock(NOW)
    first = await make_store(clock=clock, device_rps=1.0)
    second = await make_store(clock=clock, device_rps=1.0)
    device_id = await new_device(first, purchased=100)
    stores = [first, second] * 5
    held = await asyncio.gather(*(_try_hold(s, device_id, 1, "0.001") for s in stores))
    assert sum(h is not None for h in held) == 1
    clock.advance(1.0)
    assert await _try_hold(second, device_id, 1, "0.001") is not None
    assert await _try_hold(first, device_id, 1, "0.001") is None
    for hold_id in [h for h in held if h is not None]:
        await first.release(hold_id)
    await first.expire_holds()
    clock.advance(3600)
    await first.expire_holds()


async def test_a_rate_limited_request_says_when_to_retry(make_store: StoreFactory) -> None:
    clock = FixedClock(NOW)
    store = await make_store(clock=clock, device_rps=2.0)
    device_id = await new_device(store, purchased=10)
    await store.admit(device_id, credits=1, cost_usd=Decimal(0), idempotency_key=None)
    clock.advance(0.1)
    try:
        await store.admit(device_id, credits=1, cost_usd=Decimal(0), idempotency_key=None)
    except RateLimited as refused:
        assert abs(refused.retry_after_s - 0.4) < 1e-6
    else:
        raise AssertionError("the second request within 0.5 s was admitted")
    clock.advance(0.4)
    await store.admit(device_id, credits=1, cost_usd=Decimal(0), idempotency_key=None)
    clock.advance(3600)
    await store.expire_holds()


async def test_two_instances_spending_one_wallet_agree_on_the_balance(
    make_store: StoreFactory,
) -> None:
    first, second = await make_store(), await make_store()
    device_id = await new_device(first, purchased=175)

    async def worker(store: Store) -> int:
        return sum([await _try_spend(store, device_id, 5, "0.001") for _ in range(25)])

    succeeded = sum(await asyncio.gather(*(worker(s) for s in (first, second, first, second))))
    assert succeeded == 200 // 5
    assert (await second.credits(device_id)).balance == 0


async def test_concurrent_duplicates_of_one_key_admit_exactly_one(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = await new_device(store, purchased=100)

    async def attempt() -> str:
        try:
            admission = await store.admit(
                device_id, credits=5, cost_usd=Decimal("0.01"), idempotency_key="same-request"
            )
        except IdempotencyInFlight:
            return "in flight"
        assert isinstance(admission, Admission)
        return admission.hold_id

    outcomes = await asyncio.gather(*(attempt() for _ in range(10)))
    admitted = [o for o in outcomes if o != "in flight"]
    assert len(admitted) == 1
    assert (await store.credits(device_id)).reserved == 5
    await store.settle(
        admitted[0], usage(5, "0.01"), response=Replay(200, b"{}", "application/json")
    )
    again = await store.admit(
        device_id, credits=5, cost_usd=Decimal("0.01"), idempotency_key="same-request"
    )
    assert again == Replay(200, b"{}", "application/json")
    assert (await store.credits(device_id)).balance == 120
