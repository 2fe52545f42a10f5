"""The weekly breaker on SQLite and PostgreSQL: it trips at the cap counting open holds, closes
at Monday 00:00 UTC with no reset job, keeps late spend in its own week, degrades to the cheap
model above 90 %, and takes a cap set by another instance at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from promptready.cloud.clock import FixedClock
from promptready.cloud.store import BreakerOpen
from tests.cloud.conftest import StoreFactory
from tests.cloud.wallets import hold, new_device, spend, usage

SUNDAY_LATE = datetime(2026, 12, 13, 23, 59, 59, tzinfo=UTC)
MONDAY = datetime(2026, 12, 14, tzinfo=UTC)


async def test_the_breaker_trips_exactly_at_the_cap(make_store: StoreFactory) -> None:
    store = await make_store(weekly_cap_usd=Decimal("0.10"), spend_shards=1)
    device_id = await new_device(store, purchased=100)
    for _ in range(10):
        await spend(store, device_id, 1, "0.01")
    with pytest.raises(BreakerOpen):
        await hold(store, device_id, 1, "0.01")
    with pytest.raises(BreakerOpen):
        await hold(store, device_id, 1, "0")
    assert (await store.credits(device_id)).balance == 115


async def test_open_holds_count_against_the_cap(make_store: StoreFactory) -> None:
    store = await make_store(weekly_cap_usd=Decimal("0.10"), spend_shards=1)
    device_id = await new_device(store, purchased=100)
    pending = await hold(store, device_id, 1, "0.08")
    with pytest.raises(BreakerOpen):
        await hold(store, device_id, 1, "0.03")
    await store.release(pending.hold_id)
    await spend(store, device_id, 1, "0.03")


async def test_an_open_breaker_says_it_resets_next_monday(make_store: StoreFactory) -> None:
    clock = FixedClock(datetime(2026, 12, 9, 15, 30, tzinfo=UTC))
    store = await make_store(clock=clock, weekly_cap_usd=Decimal(0))
    device_id = await new_device(store)
    with pytest.raises(BreakerOpen) as caught:
        await hold(store, device_id, 1, "0.01")
    assert caught.value.resets_at == MONDAY


async def test_the_breaker_closes_at_monday_midnight_utc(make_store: StoreFactory) -> None:
    clock = FixedClock(SUNDAY_LATE)
    store = await make_store(clock=clock, weekly_cap_usd=Decimal("0.05"), spend_shards=1)
    device_id = await new_device(store, purchased=100)
    await spend(store, device_id, 1, "0.05")
    with pytest.raises(BreakerOpen):
        await hold(store, device_id, 1, "0.01")
    clock.set(MONDAY)
    await spend(store, device_id, 1, "0.05")
    assert (await store.weekly_spend()).week == "2026-W51"


async def test_spend_admitted_before_the_boundary_stays_in_the_old_week(
    make_store: StoreFactory,
) -> None:
    clock = FixedClock(SUNDAY_LATE)
    store = await make_store(clock=clock, weekly_cap_usd=Decimal("0.05"), spend_shards=1)
    device_id = await new_device(store, purchased=100)
    late = await hold(store, device_id, 1, "0.05")
    clock.set(MONDAY + timedelta(seconds=5))
    await store.settle(late.hold_id, usage(1, "0.05"))
    this_week = await store.weekly_spend()
    assert (this_week.week, this_week.committed_usd) == ("2026-W51", Decimal(0))
    clock.set(SUNDAY_LATE)
    assert (await store.weekly_spend()).committed_usd == Decimal("0.05")


async def test_above_90_percent_requests_degrade_to_the_cheapest_model(
    make_store: StoreFactory,
) -> None:
    store = await make_store(weekly_cap_usd=Decimal(1), spend_shards=1)
    device_id = await new_device(store, purchased=100)
    normal = await hold(store, device_id, 1, "0.90")
    assert not normal.degraded and normal.model == normal.cohort.model
    await store.settle(normal.hold_id, usage(1, "0.90"))
    cheap = await hold(store, device_id, 1, "0.01")
    assert cheap.model == "llama-3.1-8b-instant"
    assert cheap.degraded == (cheap.cohort.model != "llama-3.1-8b-instant")
    await store.release(cheap.hold_id)


async def test_the_degrade_model_is_configurable(make_store: StoreFactory) -> None:
    store = await make_store(
        weekly_cap_usd=Decimal(1), spend_shards=1, degrade_model="tiny", degrade_at=Decimal("0.5")
    )
    device_id = await new_device(store, purchased=100)
    await spend(store, device_id, 1, "0.50")
    cheap = await hold(store, device_id, 1, "0.01")
    assert (cheap.model, cheap.degraded) == ("tiny", True)
    await store.release(cheap.hold_id)


async def test_a_cap_set_by_another_instance_applies_at_once(make_store: StoreFactory) -> None:
    serving = await make_store(weekly_cap_usd=Decimal(100))
    admin = await make_store(weekly_cap_usd=Decimal(100))
    device_id = await new_device(serving, purchased=100)
    await admin.set_weekly_cap(Decimal("0.01"))
    with pytest.raises(BreakerOpen):
        await hold(serving, device_id, 1, "0.02")
    assert (await serving.weekly_spend()).cap_usd == Decimal("0.01")
    with pytest.raises(ValueError, match="negative"):
        await admin.set_weekly_cap(Decimal(-1))


async def test_the_degrade_check_counts_every_shard_of_the_week(make_store: StoreFactory) -> None:
    store = await make_store(weekly_cap_usd=Decimal(1), spend_shards=4)
    device_id = await new_device(store, purchased=100)
    for _ in range(4):  # $0.92 in all, spread over the four $0.25 shards
        await spend(store, device_id, 1, "0.23")
    for _ in range(8):  # whichever shard it lands on, the week is above 90 %
        cheap = await hold(store, device_id, 1, "0.001")
        assert cheap.model == "llama-3.1-8b-instant"
        await store.release(cheap.hold_id)
