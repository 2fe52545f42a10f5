"""Holds and idempotency on SQLite and PostgreSQL: settle lower or higher than the estimate,
release on error, each hold resolved at most once, expiry after the TTL, and per-device
idempotency keys that replay the stored answer."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from promptready.cloud.clock import FixedClock
from promptready.cloud.store import (
    HoldUnknown,
    IdempotencyInFlight,
    LedgerKind,
    Replay,
)
from tests.cloud.conftest import StoreFactory
from tests.cloud.wallets import hold, new_device, usage

NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
ANSWER = Replay(200, b'{"status": "SUCCESS"}', "application/json")


async def test_settling_below_the_estimate_charges_only_the_actual_cost(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = await new_device(store)
    admission = await hold(store, device_id, 10, "0.01")
    assert (await store.credits(device_id)).available == 15
    view = await store.settle(admission.hold_id, usage(4, "0.004"))
    assert (view.balance, view.reserved, view.available) == (21, 0, 21)
    spend = await store.weekly_spend()
    assert (spend.committed_usd, spend.reserved_usd) == (Decimal("0.004"), Decimal(0))


async def test_settling_above_the_estimate_charges_it_within_the_overdraft(
    make_store: StoreFactory,
) -> None:
    store = await make_store(overdraft_credits=5)
    device_id = await new_device(store)
    admission = await hold(store, device_id, 20)
    view = await store.settle(admission.hold_id, usage(28))
    assert view.balance == -3


async def test_an_overrun_beyond_the_overdraft_is_capped_and_recorded(
    make_store: StoreFactory,
) -> None:
    store = await make_store(overdraft_credits=5)
    device_id = await new_device(store)
    admission = await hold(store, device_id, 20)
    view = await store.settle(admission.hold_id, usage(100))
    assert view.balance == -5
    debits = [e for e in await store.ledger(device_id) if e.kind is LedgerKind.DEBIT]
    assert sum(e.delta for e in debits) == -30
    assert all("charged 30 of 100" in e.reason for e in debits)


async def test_releasing_a_hold_charges_nothing(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store)
    admission = await hold(store, device_id, 10, "0.02")
    await store.release(admission.hold_id)
    view = await store.credits(device_id)
    assert (view.balance, view.reserved) == (25, 0)
    assert (await store.weekly_spend()).reserved_usd == 0
    assert [e.kind for e in await store.ledger(device_id)] == [LedgerKind.GRANT]


async def test_a_hold_is_resolved_at_most_once(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store)
    admission = await hold(store, device_id, 5)
    first = await store.settle(admission.hold_id, usage(5))
    again = await store.settle(admission.hold_id, usage(5))
    await store.release(admission.hold_id)
    shown = await store.credits(device_id)
    assert first == again == replace(shown, used_month=None)
    assert (first.balance, shown.used_month) == (20, 5)


async def test_a_released_hold_cannot_be_settled_later(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store)
    admission = await hold(store, device_id, 5)
    await store.release(admission.hold_id)
    assert (await store.settle(admission.hold_id, usage(5))).balance == 25


async def test_an_unknown_hold_is_an_error(make_store: StoreFactory) -> None:
    store = await make_store()
    with pytest.raises(HoldUnknown):
        await store.settle("0" * 32, usage(1))
    with pytest.raises(HoldUnknown):
        await store.release("0" * 32)


async def test_holds_of_a_crashed_process_expire_after_their_ttl(
    make_store: StoreFactory,
) -> None:
    clock = FixedClock(NOW)
    crashed = await make_store(clock=clock, hold_ttl_s=600)
    device_id = await new_device(crashed)
    await hold(crashed, device_id, 10, "0.05")
    restarted = await make_store(clock=clock, hold_ttl_s=600)
    clock.advance(599)
    assert await restarted.expire_holds() == 0
    clock.advance(2)
    assert await restarted.expire_holds() == 1
    assert await restarted.expire_holds() == 0
    view = await restarted.credits(device_id)
    assert (view.balance, view.reserved) == (25, 0)
    assert (await restarted.weekly_spend()).reserved_usd == 0


async def test_an_expired_hold_cannot_be_settled(make_store: StoreFactory) -> None:
    clock = FixedClock(NOW)
    store = await make_store(clock=clock, hold_ttl_s=60)
    device_id = await new_device(store)
    admission = await hold(store, device_id, 10)
    clock.advance(61)
    await store.expire_holds()
    assert (await store.settle(admission.hold_id, usage(10))).balance == 25


@pytest.mark.parametrize("bad", [usage(-1), usage(1, "-0.01"), usage(1, status="maybe")])
async def test_a_settle_with_impossible_usage_is_refused_and_the_hold_stays(
    make_store: StoreFactory, bad: object
) -> None:
    store = await make_store()
    device_id = await new_device(store)
    admission = await hold(store, device_id, 3)
    with pytest.raises(ValueError):
        await store.settle(admission.hold_id, bad)  # type: ignore[arg-type]
    assert (await store.credits(device_id)).reserved == 3
    await store.release(admission.hold_id)


async def test_a_retried_key_replays_the_stored_answer_and_charges_once(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = await new_device(store)
    admission = await hold(store, device_id, 2, key="req-1")
    await store.settle(admission.hold_id, usage(2), response=ANSWER)
    replay = await store.admit(
        device_id, credits=2, cost_usd=Decimal("0.001"), idempotency_key="req-1"
    )
    assert replay == ANSWER
    assert (await store.credits(device_id)).balance == 23


async def test_the_same_key_from_another_device_is_independent(make_store: StoreFactory) -> None:
    store = await make_store()
    first, second = await new_device(store), await new_device(store)
    admission = await hold(store, first, 2, key="req-1")
    await store.settle(admission.hold_id, usage(2), response=ANSWER)
    other = await hold(store, second, 2, key="req-1")
    await store.settle(other.hold_id, usage(2), response=ANSWER)
    assert (await store.credits(second)).balance == 23


async def test_a_duplicate_while_the_first_is_running_is_in_flight(
    make_store: StoreFactory,
) -> None:
    store = await make_store()
    device_id = await new_device(store)
    admission = await hold(store, device_id, 2, key="req-1")
    with pytest.raises(IdempotencyInFlight):
        await store.admit(device_id, credits=2, cost_usd=Decimal("0.001"), idempotency_key="req-1")
    await store.settle(admission.hold_id, usage(2), response=ANSWER)


async def test_a_released_request_may_be_retried_with_its_key(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store)
    failed = await hold(store, device_id, 2, key="req-1")
    await store.release(failed.hold_id)
    retried = await hold(store, device_id, 2, key="req-1")
    await store.settle(retried.hold_id, usage(2), response=ANSWER)
    assert (await store.credits(device_id)).balance == 23


@pytest.mark.parametrize("key", ["", "k" * 201])
async def test_an_idempotency_key_must_be_1_to_200_characters(
    make_store: StoreFactory, key: str
) -> None:
    store = await make_store()
    device_id = await new_device(store)
    with pytest.raises(ValueError, match="idempotency key"):
        await store.admit(device_id, credits=1, cost_usd=Decimal(0), idempotency_key=key)


async def test_admitting_for_an_unknown_device_is_refused(make_store: StoreFactory) -> None:
    from promptready.cloud.store import DeviceUnknown

    store = await make_store()
    with pytest.raises(DeviceUnknown):
        await store.admit(uuid.uuid4(), credits=1, cost_usd=Decimal(0), idempotency_key=None)
