"""Usage events: one per settled request, the device id hashed with the server key, pruned
after N days into weekly aggregates; and the invariant check catching a broken wallet."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from promptready.cloud.clock import FixedClock
from promptready.cloud.schema import usage_events, usage_weekly, wallets
from promptready.cloud.usage import UsageHasher
from tests.cloud.conftest import StoreFactory
from tests.cloud.wallets import USAGE_KEY, hold, new_device, spend, usage

NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


def test_device_ids_are_hashed_with_the_key() -> None:
    device_id = uuid.uuid4()
    hashed = UsageHasher(USAGE_KEY).device_hash(device_id)
    assert hashed == UsageHasher(USAGE_KEY).device_hash(device_id)
    assert hashed != UsageHasher(b"another-key-of-32-bytes-........").device_hash(device_id)
    assert str(device_id) not in hashed and device_id.hex not in hashed
    assert "test-usage" not in repr(UsageHasher(USAGE_KEY))


def test_a_short_hashing_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        UsageHasher(b"short")


async def test_every_settle_writes_one_event_with_cohort_model_and_cost(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = await new_device(store)
    admission = await hold(store, device_id, 3, "0.002")
    await store.settle(admission.hold_id, usage(2, "0.0015", status="cancelled"))
    async with store.transaction() as conn:
        row = (await conn.execute(select(usage_events))).one()
    assert row.device_hash == UsageHasher(USAGE_KEY).device_hash(device_id)
    assert (row.cohort, row.model, row.status) == ("A", "gpt-oss-20b", "cancelled")
    assert (row.cost_micro, row.credits, row.prompt_tokens) == (1500, 2, 100)


async def test_pruning_keeps_weekly_totals_of_the_events_it_drops(make_store: StoreFactory) -> None:
    clock = FixedClock(NOW)
    store = await make_store(clock=clock)
    device_id = await new_device(store, purchased=100)
    for _ in range(3):
        await spend(store, device_id, 2, "0.001")
    clock.advance(31 * 86_400)
    await spend(store, device_id, 1, "0.001")
    assert await store.prune_usage(days=30) == 3
    assert await store.prune_usage(days=30) == 0
    async with store.transaction() as conn:
        kept = await conn.scalar(select(func.count()).select_from(usage_events))
        week = (await conn.execute(select(usage_weekly))).one()
    assert kept == 1
    assert (week.week, week.requests, week.credits, week.cost_micro) == ("2026-W50", 3, 6, 3000)
    assert (await store.stats()).usage_events == 1


async def test_pruning_a_negative_age_is_an_error(make_store: StoreFactory) -> None:
    store = await make_store()
    with pytest.raises(ValueError):
        await store.prune_usage(days=-1)


async def test_the_invariant_check_reports_a_wallet_that_disagrees_with_its_ledger(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = await new_device(store)
    assert await store.check_invariants() == []
    async with store.transaction() as conn:
        await conn.execute(
            update(wallets)
            .where(wallets.c.device_id == device_id)
            .values(balance=30, free=30, reserved=2)
        )
    problems = await store.check_invariants()
    assert problems == [
        f"wallet {device_id}: balance 30 != ledger 25",
        f"wallet {device_id}: reserved 2 != open holds 0",
    ]
    async with store.transaction() as conn:
        await conn.execute(
            update(wallets)
            .where(wallets.c.device_id == device_id)
            .values(balance=25, free=25, reserved=0)
        )


async def test_stats_count_devices_holds_and_debits(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store)
    await spend(store, device_id, 4, "0.25")
    pending = await hold(store, device_id, 1, "0.01")
    stats = await store.stats()
    assert (stats.devices, stats.open_holds, stats.credits_debited) == (1, 1, 4)
    assert stats.credits_outstanding == 21
    assert stats.weekly.committed_usd == Decimal("0.25")
    assert sum(stats.cohorts.values()) == 1
    await store.release(pending.hold_id)
