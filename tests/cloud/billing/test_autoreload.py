"""Auto-reload (billing-anchors §8 cases 34-37): one off-session charge per crossing below 50,
credited by the webhook only, stopped by authentication_required, backing off on declines,
capped per month, never for Pro."""

from __future__ import annotations

import asyncio
import uuid

from promptready.cloud.billing.autoreload import maybe_reload, reload_key
from promptready.cloud.clock import FixedClock
from promptready.cloud.store import Bucket
from tests.cloud.billing.conftest import Api
from tests.cloud.billing.stripe_standin import CardBehaviour

LOW = 40  # below the rate card's auto_reload_below (50)


async def customer_with_card(api: Api, *, enabled: bool = True) -> tuple[uuid.UUID, str]:
    """A device that bought Starter (its card saved) and turned auto-reload on."""
    device = await api.device()
    session = await api.buy(device, "Starter")
    for event in api.standin.pay_session(session):
        await api.deliver(event)
    if enabled:
        answer = await api.post(device, "/api/v1/billing/auto-reload", {"enabled": True})
        assert answer.json()["enabled"] is True
    customer = api.standin.objects[session]["customer"]
    return device, customer


def off_session_charges(api: Api) -> list[tuple[dict[str, object], str | None]]:
    return api.standin.calls("POST", "/v1/payment_intents")


async def test_auto_reload_is_off_until_the_user_turns_it_on(api: Api) -> None:
    device, _ = await customer_with_card(api, enabled=False)
    state = (await api.get(device, "/api/v1/billing/auto-reload")).json()
    assert state["enabled"] is False
    assert state["has_payment_method"] is True
    assert state["below"] == 50
    assert await maybe_reload(api.billing, device, LOW) is None
    assert off_session_charges(api) == []


async def test_a_balance_at_or_above_the_threshold_charges_nothing(api: Api) -> None:
    device, _ = await customer_with_card(api)
    assert await maybe_reload(api.billing, device, 50) is None
    assert off_session_charges(api) == []


async def test_many_requests_crossing_at_once_charge_exactly_once(api: Api) -> None:
    device, _ = await customer_with_card(api)
    results = await asyncio.gather(*(maybe_reload(api.billing, device, LOW) for _ in range(20)))
    assert [r for r in results if r is not None] == [reload_key(device, 1)]
    [(params, key)] = off_session_charges(api)
    assert key == reload_key(device, 1)
    assert params["off_session"] == "true"
    assert params["amount"] == "500"


async def test_credits_arrive_only_with_the_succeeded_webhook(api: Api) -> None:
    device, _ = await customer_with_card(api)
    before = (await api.billing.store.credits(device)).buckets[Bucket.PURCHASED]
    await maybe_reload(api.billing, device, LOW)
    assert (await api.billing.store.credits(device)).buckets[Bucket.PURCHASED] == before
    [succeeded] = [e for e in api.standin.events if e["type"] == "payment_intent.succeeded"][-1:]
    assert (await api.deliver(succeeded)).json()["outcome"] == "applied"
    again = dict(succeeded, id="evt_other_delivery_same_intent")
    assert (await api.deliver(again)).json()["outcome"] == "replayed"
    assert (await api.billing.store.credits(device)).buckets[Bucket.PURCHASED] == before + 250


async def test_the_next_crossing_after_a_credited_reload_charges_again(api: Api) -> None:
    device, _ = await customer_with_card(api)
    await maybe_reload(api.billing, device, LOW)
    await api.deliver(api.standin.events[-1])
    assert await maybe_reload(api.billing, device, LOW) == reload_key(device, 2)
    assert len(off_session_charges(api)) == 2


async def test_no_second_charge_while_the_first_waits_for_its_webhook(api: Api) -> None:
    device, _ = await customer_with_card(api)
    await maybe_reload(api.billing, device, LOW)
    assert await maybe_reload(api.billing, device, LOW - 10) is None
    assert len(off_session_charges(api)) == 1


async def test_authentication_required_turns_auto_reload_off_and_tells_the_user(
    api: Api,
) -> None:
    device, customer = await customer_with_card(api)
    api.standin.set_card(customer, CardBehaviour.AUTHENTICATION_REQUIRED)
    assert await maybe_reload(api.billing, device, LOW) is None
    state = (await api.get(device, "/api/v1/billing/auto-reload")).json()
    assert state["enabled"] is False
    assert "confirm" in state["off_reason"]
    await api.deliver(api.standin.events[-1])  # the payment_failed webhook changes nothing more
    assert await maybe_reload(api.billing, device, LOW) is None
    assert len(off_session_charges(api)) == 1  # no retry loop
    notices = (await api.get(device, "/api/v1/billing/status")).json()["notices"]
    assert [n["kind"] for n in notices] == ["auto_reload_off"]


async def test_a_decline_backs_off_then_stops_after_three_a_day(
    api: Api, clock: FixedClock
) -> None:
    device, customer = await customer_with_card(api)
    api.standin.set_card(customer, CardBehaviour.INSUFFICIENT_FUNDS)
    assert await maybe_reload(api.billing, device, LOW) is None
    assert await maybe_reload(api.billing, device, LOW) is None  # backing off: no call
    assert len(off_session_charges(api)) == 1
    clock.advance(3600)
    await maybe_reload(api.billing, device, LOW)
    assert len(off_session_charges(api)) == 2
    clock.advance(3600)  # the back-off doubled to two hours
    await maybe_reload(api.billing, device, LOW)
    assert len(off_session_charges(api)) == 2
    clock.advance(3600)
    await maybe_reload(api.billing, device, LOW)
    assert len(off_session_charges(api)) == 3
    clock.advance(8 * 3600)
    await maybe_reload(api.billing, device, LOW)
    assert len(off_session_charges(api)) == 3  # three declines in a day: no more today
    assert (await api.get(device, "/api/v1/billing/auto-reload")).json()["enabled"] is True


async def test_the_monthly_cap_stops_further_reloads(api: Api) -> None:
    device, _ = await customer_with_card(api)
    cap = api.billing.settings.reloads_per_month
    for _ in range(cap + 2):
        await maybe_reload(api.billing, device, LOW)
        await api.deliver(api.standin.events[-1])
    assert len(off_session_charges(api)) == cap


async def test_pro_wallets_are_never_auto_charged(api: Api) -> None:
    device, _ = await customer_with_card(api)
    await api.billing.store.set_plan(device, "pro")
    assert await maybe_reload(api.billing, device, 0) is None
    assert off_session_charges(api) == []


async def test_the_switch_refuses_anything_but_a_boolean(api: Api) -> None:
    device = await api.device()
    for body in ({"enabled": "yes"}, {"enabled": 1}, {}):
        answer = await api.post(device, "/api/v1/billing/auto-reload", body)
        assert answer.status_code == 400, body


async def test_a_frozen_wallet_is_never_auto_charged(api: Api) -> None:
    device, _ = await customer_with_card(api)
    await api.billing.store.set_frozen(device, True)
    assert await maybe_reload(api.billing, device, 0) is None
    assert off_session_charges(api) == []


async def test_a_checkout_never_paid_is_no_saved_card(api: Api) -> None:
    device = await api.device()
    await api.buy(device, "Starter")  # the customer exists, no payment went through
    state = (await api.get(device, "/api/v1/billing/auto-reload")).json()
    assert state["has_payment_method"] is False


async def test_reading_auto_reload_needs_a_valid_device_token(api: Api) -> None:
    for authorization in ("Bearer not-a-jwt", "Basic abc", "Bearer ", "Bearer a.b.c"):
        answer = await api.http.get(
            "/api/v1/billing/auto-reload", headers={"Authorization": authorization}
        )
        assert answer.status_code == 401, authorization
        assert "not-a-jwt" not in answer.text
