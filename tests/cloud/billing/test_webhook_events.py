"""What each Stripe event does (billing-anchors §8 cases 26-33): exactly once, in any order,
nothing granted for what does not match, refunds by the delta, disputes freeze."""

from __future__ import annotations

import copy
import itertools
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from promptready.cloud.billing import tables
from promptready.cloud.billing.handlers import refund_share
from promptready.cloud.store import Bucket, DeviceUnknown, LedgerKind, Store
from tests.cloud.billing.conftest import Api


async def purchased(api: Api, device: uuid.UUID) -> int:
    return (await api.billing.store.credits(device)).buckets[Bucket.PURCHASED]


async def count(store: Store, table: Any) -> int:
    async with store.transaction() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def paid(api: Api, pack: str = "Starter") -> tuple[uuid.UUID, str, list[dict[str, Any]]]:
    device = await api.device()
    session = await api.buy(device, pack)
    return device, session, api.standin.pay_session(session)


async def test_an_event_replayed_after_success_changes_nothing(api: Api) -> None:
    device, _, events = await paid(api)
    first = await api.deliver(events[0])
    again = await api.deliver(events[0])
    assert first.json()["outcome"] == "applied"
    assert again.status_code == 200
    assert again.json()["outcome"] == "replayed"
    assert await purchased(api, device) == 250


async def test_a_handler_failure_rolls_back_and_answers_5xx_then_the_retry_applies(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    device, _, events = await paid(api)
    real_grant = Store.grant

    async def failing_grant(self: Store, *args: Any, **kwargs: Any) -> bool:
        await real_grant(self, *args, **kwargs)
        raise RuntimeError("the database went away after the grant")

    monkeypatch.setattr(Store, "grant", failing_grant)
    assert (await api.deliver(events[0])).status_code == 500
    assert await purchased(api, device) == 0
    assert await count(api.billing.store, tables.events) == 0
    monkeypatch.setattr(Store, "grant", real_grant)
    assert (await api.deliver(events[0])).status_code == 200
    assert await purchased(api, device) == 250


async def test_async_success_before_completed_grants_once(api: Api) -> None:
    device = await api.device()
    session = await api.buy(device, "Bulk")
    [completed] = api.standin.pay_session(session, delayed=True)
    [succeeded] = api.standin.settle_session(session)
    assert (await api.deliver(succeeded)).json()["outcome"] == "applied"
    later = copy.deepcopy(completed)
    later["data"]["object"]["payment_status"] = "paid"  # a late completed, seen after settling
    assert (await api.deliver(later)).json()["outcome"] == "replayed"
    assert await purchased(api, device) == 1000


async def test_completed_while_unpaid_grants_nothing_until_the_async_success(api: Api) -> None:
    device = await api.device()
    session = await api.buy(device, "Starter")
    [completed] = api.standin.pay_session(session, delayed=True)
    assert (await api.deliver(completed)).json()["outcome"] == "pending"
    assert await purchased(api, device) == 0
    [succeeded] = api.standin.settle_session(session)
    assert (await api.deliver(succeeded)).json()["outcome"] == "applied"
    assert await purchased(api, device) == 250


async def test_async_failure_grants_nothing_and_the_user_sees_it(api: Api) -> None:
    device = await api.device()
    session = await api.buy(device, "Starter")
    api.standin.pay_session(session, delayed=True)
    [failed] = api.standin.settle_session(session, succeeded=False)
    assert (await api.deliver(failed)).status_code == 200
    assert await purchased(api, device) == 0
    status = (await api.get(device, "/api/v1/billing/status")).json()
    assert status["notices"][0]["kind"] == "payment_failed"
    assert "did not go through" in status["notices"][0]["message"]


async def test_a_failed_card_payment_is_recorded_and_shown(api: Api) -> None:
    device, _, events = await paid(api)
    intent = copy.deepcopy(events[1])
    assert intent["type"] == "payment_intent.succeeded"
    intent["id"] = "evt_failed_card"
    intent["type"] = "payment_intent.payment_failed"
    assert (await api.deliver(intent)).status_code == 200
    notices = (await api.get(device, "/api/v1/billing/status")).json()["notices"]
    assert [n["kind"] for n in notices] == ["payment_failed"]


def _tampered(event: dict[str, Any], **fields: Any) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["data"]["object"].update(fields)
    return changed


@pytest.mark.parametrize(
    ("what", "fields"),
    [
        ("amount", {"amount_total": 100}),
        ("currency", {"currency": "eur"}),
        ("pack", {"metadata": {"pack": "Platinum"}}),
        ("device", {"client_reference_id": str(uuid.uuid4()), "metadata": {"pack": "Starter"}}),
        ("no device", {"client_reference_id": None, "metadata": {"pack": "Starter"}}),
    ],
)
async def test_a_payment_that_does_not_match_grants_nothing_and_is_flagged(
    api: Api, what: str, fields: dict[str, Any]
) -> None:
    device, _, events = await paid(api)
    answer = await api.deliver(_tampered(events[0], **fields))
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "review", what
    assert await purchased(api, device) == 0
    assert await count(api.billing.store, tables.reviews) == 1


async def test_a_partial_refund_takes_back_the_share_of_its_delta(api: Api) -> None:
    device, session, events = await paid(api, "Bulk")  # $15 for 1,000 credits
    await api.deliver(events[0])
    charge = api.standin.charge_of(session)["id"]
    [first] = api.standin.refund(charge, 300)  # $3 → 200 credits
    [second] = api.standin.refund(charge, 450)  # $4.50 more → 300 credits more
    await api.deliver(first)
    assert await purchased(api, device) == 800
    await api.deliver(second)
    assert await purchased(api, device) == 500


async def test_partial_refunds_arriving_out_of_order_take_back_the_same(api: Api) -> None:
    device, session, events = await paid(api, "Bulk")
    await api.deliver(events[0])
    charge = api.standin.charge_of(session)["id"]
    first = api.standin.refund(charge, 300)[0]
    second = api.standin.refund(charge, 450)[0]
    for event in (second, first, second):
        assert (await api.deliver(event)).status_code == 200
    assert await purchased(api, device) == 500


async def test_a_full_refund_after_spending_leaves_a_debt(api: Api) -> None:
    device, session, events = await paid(api, "Starter")
    await api.deliver(events[0])
    store = api.billing.store
    await store.revoke(device, 300, kind=LedgerKind.ADJUSTMENT, idem_key="spent", reason="spent")
    charge = api.standin.charge_of(session)["id"]
    [refund] = api.standin.refund(charge)
    assert (await api.deliver(refund)).status_code == 200
    view = await store.credits(device)
    assert view.balance < 0  # 25 free + 250 bought - 300 spent - 250 refunded
    assert view.balance == 25 + 250 - 300 - 250


def test_refund_shares_add_up_to_the_whole_pack() -> None:
    levels = [0, 1, 333, 334, 999, 1499, 1500]
    deltas = [
        refund_share(1000, 1500, b) - refund_share(1000, 1500, a)
        for a, b in itertools.pairwise(levels)
    ]
    assert sum(deltas) == 1000
    assert refund_share(250, 500, 250) == 125


async def test_a_dispute_freezes_the_wallet_and_a_lost_one_takes_back_the_rest_once(
    api: Api,
) -> None:
    device, session, events = await paid(api, "Starter")
    await api.deliver(events[0])
    charge = api.standin.charge_of(session)["id"]
    await api.deliver(api.standin.refund(charge, 100)[0])  # 50 credits back already
    [opened] = api.standin.dispute(charge)
    assert (await api.deliver(opened)).status_code == 200
    assert (await api.billing.store.credits(device)).frozen
    [lost] = api.standin.close_dispute(opened["data"]["object"]["id"], "lost")
    await api.deliver(lost)
    duplicate = copy.deepcopy(lost)
    duplicate["id"] = "evt_duplicate_lost"
    await api.deliver(duplicate)
    assert await purchased(api, device) == 0
    assert (await api.billing.store.credits(device)).frozen


async def test_a_won_dispute_unfreezes_the_wallet(api: Api) -> None:
    device, session, events = await paid(api, "Starter")
    await api.deliver(events[0])
    [opened] = api.standin.dispute(api.standin.charge_of(session)["id"])
    await api.deliver(opened)
    [won] = api.standin.close_dispute(opened["data"]["object"]["id"], "won")
    await api.deliver(won)
    view = await api.billing.store.credits(device)
    assert not view.frozen
    assert view.buckets[Bucket.PURCHASED] == 250


async def test_event_types_billing_does_not_handle_answer_200_and_are_ignored(api: Api) -> None:
    device, _, events = await paid(api)
    other = copy.deepcopy(events[0])
    other["type"] = "customer.updated"
    answer = await api.deliver(other)
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "ignored"
    assert await purchased(api, device) == 0


async def test_a_refund_before_its_purchase_is_refused_until_stripe_retries(api: Api) -> None:
    device, session, events = await paid(api)
    refund = api.standin.refund(api.standin.charge_of(session)["id"])[0]
    early = await api.deliver(refund)
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "payment_not_yet_known"
    await api.deliver(events[0])
    assert (await api.deliver(refund)).json()["outcome"] == "applied"  # Stripe's retry
    assert await purchased(api, device) == 0


async def test_an_unreadable_object_is_flagged_once(api: Api) -> None:
    _, _, events = await paid(api)
    broken = _tampered(events[0], amount_total="five dollars")
    assert (await api.deliver(broken)).json()["outcome"] == "review"
    assert (await api.deliver(broken)).json()["outcome"] == "replayed"
    assert await count(api.billing.store, tables.reviews) == 1


async def test_a_grant_for_a_device_the_store_does_not_know_is_never_attempted(api: Api) -> None:
    _device, _, events = await paid(api)
    stranger = _tampered(events[0], client_reference_id=str(uuid.uuid4()))
    stranger["data"]["object"]["metadata"]["device_id"] = stranger["data"]["object"][
        "client_reference_id"
    ]
    assert (await api.deliver(stranger)).json()["outcome"] == "review"
    with pytest.raises(DeviceUnknown):
        await api.billing.store.credits(
            uuid.UUID(stranger["data"]["object"]["client_reference_id"])
        )
