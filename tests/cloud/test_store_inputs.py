"""Bad values from callers are clear errors that change nothing: settings, estimates, plans,
revokes and unknown devices."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from promptready.cloud.cohorts import Cohort
from promptready.cloud.store import DeviceUnknown, LedgerKind, Store
from tests.cloud.conftest import StoreFactory
from tests.cloud.wallets import new_device, store_settings


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ({"weekly_cap_usd": Decimal(-1)}, "weekly cap"),
        ({"spend_shards": 0}, "spend_shards"),
        ({"hold_ttl_s": 0}, "hold_ttl_s"),
        ({"degrade_at": Decimal("1.5")}, "degrade_at"),
        ({"degrade_at": Decimal(0)}, "degrade_at"),
        ({"overdraft_credits": -1}, "negative"),
        ({"byok_grant": -500}, "negative"),
        ({"cohorts": ()}, "cohort"),
        ({"device_rps": -1.0}, "negative"),
        ({"usage_key": b"short"}, "16 bytes"),
    ],
)
async def test_impossible_settings_are_refused_when_the_store_opens(
    sqlite_url: str, override: dict[str, object], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        await Store.open(sqlite_url, store_settings(**override))


@pytest.mark.parametrize(("credits", "cost"), [(-1, "0.01"), (1, "-0.01")])
async def test_a_negative_estimate_is_refused(
    make_store: StoreFactory, credits: int, cost: str
) -> None:
    store = await make_store()
    device_id = await new_device(store)
    with pytest.raises(ValueError, match="negative"):
        await store.admit(device_id, credits=credits, cost_usd=Decimal(cost), idempotency_key=None)
    assert (await store.credits(device_id)).reserved == 0


async def test_an_unknown_plan_is_refused(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store)
    with pytest.raises(ValueError, match="unknown plan"):
        await store.set_plan(device_id, "platinum")
    assert (await store.device(device_id)).plan == "free"  # type: ignore[union-attr]


async def test_changing_an_unknown_device_is_refused(make_store: StoreFactory) -> None:
    store = await make_store()
    stranger = uuid.uuid4()
    with pytest.raises(DeviceUnknown):
        await store.set_plan(stranger, "pro")
    with pytest.raises(DeviceUnknown):
        await store.set_frozen(stranger, True)
    with pytest.raises(DeviceUnknown):
        await store.credits(stranger)
    with pytest.raises(DeviceUnknown):
        await store.revoke(stranger, 1, kind=LedgerKind.REFUND, idem_key="r", reason="r")
    assert await store.device(stranger) is None
    assert await store.secret_hash(stranger) is None


async def test_a_revoke_of_no_credits_is_an_error(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store)
    with pytest.raises(ValueError, match="positive"):
        await store.revoke(device_id, 0, kind=LedgerKind.REFUND, idem_key="r", reason="r")


async def test_a_device_keeps_its_cohort_when_the_weights_change(make_store: StoreFactory) -> None:
    store = await make_store()
    device_id = await new_device(store, purchased=10)
    original = (await store.device(device_id)).cohort  # type: ignore[union-attr]
    reweighted = await make_store(
        cohorts=(Cohort("A", 1, "model-a"), Cohort("B", 1, "model-b"), Cohort("C", 98, "model-c"))
    )
    admission = await reweighted.admit(
        device_id, credits=1, cost_usd=Decimal(0), idempotency_key=None
    )
    assert admission.cohort.name == original  # type: ignore[union-attr]
    await reweighted.release(admission.hold_id)  # type: ignore[union-attr]
