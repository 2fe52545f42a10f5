"""Pro: subscription Checkout, 1,000 credits a month with rollover capped at three months' worth,
the plan ending at the period end, and the Customer Portal."""

from __future__ import annotations

import uuid
from typing import Any

from promptready.cloud.clock import FixedClock
from promptready.cloud.store import Bucket
from tests.cloud.billing.conftest import Api


async def subscribe(api: Api) -> tuple[uuid.UUID, str]:
    """A device on Pro (its first invoice delivered); returns it and its subscription id."""
    device = await api.device()
    answer = await api.post(device, "/api/v1/billing/subscribe")
    assert answer.status_code == 200, answer.text
    events = api.standin.pay_session(answer.json()["session_id"])
    for event in events:
        assert (await api.deliver(event)).status_code == 200
    return device, events[0]["data"]["object"]["subscription"]


async def subscription_credits(api: Api, device: uuid.UUID) -> int:
    return (await api.billing.store.credits(device)).buckets[Bucket.SUBSCRIPTION]


async def deliver_all(api: Api, events: list[dict[str, Any]]) -> None:
    for event in events:
        assert (await api.deliver(event)).status_code == 200


async def test_subscribe_opens_a_subscription_checkout(api: Api) -> None:
    device = await api.device()
    answer = await api.post(device, "/api/v1/billing/subscribe")
    [(params, _)] = api.standin.calls("POST", "/v1/checkout/sessions")
    assert params["mode"] == "subscription"
    assert params["line_items"][0]["price_data"]["recurring"]["interval"] == "month"
    assert params["line_items"][0]["price_data"]["unit_amount"] == "900"
    assert params["subscription_data"]["metadata"]["device_id"] == str(device)
    assert answer.json()["url"]


async def test_the_first_invoice_grants_a_month_and_makes_the_device_pro(api: Api) -> None:
    device, _ = await subscribe(api)
    view = await api.billing.store.credits(device)
    assert view.plan == "pro"
    assert view.buckets[Bucket.SUBSCRIPTION] == 1000


async def test_unused_credits_roll_over_up_to_three_months_worth(api: Api) -> None:
    device, sub = await subscribe(api)
    await deliver_all(api, api.standin.renew(sub))
    assert await subscription_credits(api, device) == 2000
    await deliver_all(api, api.standin.renew(sub))
    assert await subscription_credits(api, device) == 3000
    await deliver_all(api, api.standin.renew(sub))
    assert await subscription_credits(api, device) == 3000


async def test_a_replayed_invoice_grants_nothing_more(api: Api) -> None:
    device, sub = await subscribe(api)
    [renewal] = api.standin.renew(sub)
    await api.deliver(renewal)
    renewal["id"] = "evt_same_invoice_other_event"
    assert (await api.deliver(renewal)).json()["outcome"] == "replayed"
    assert await subscription_credits(api, device) == 2000


async def test_subscribing_twice_is_refused(api: Api) -> None:
    device, _ = await subscribe(api)
    answer = await api.post(device, "/api/v1/billing/subscribe")
    assert answer.status_code == 409


async def test_a_cancelled_plan_ends_at_the_period_end(api: Api, clock: FixedClock) -> None:
    device, sub = await subscribe(api)
    await deliver_all(api, api.standin.cancel(sub))
    status = (await api.get(device, "/api/v1/billing/status")).json()
    assert status["plan"] == "pro"
    assert status["pro_ends_at"] is not None
    clock.advance(31 * 86_400)
    status = (await api.get(device, "/api/v1/billing/status")).json()
    assert status["plan"] == "free"
    assert await subscription_credits(api, device) == 1000  # what was paid for stays


async def test_a_subscription_ended_now_ends_pro_now(api: Api) -> None:
    device, sub = await subscribe(api)
    [deleted] = api.standin.cancel(sub)
    deleted["data"]["object"]["current_period_end"] = 1
    await api.deliver(deleted)
    assert (await api.billing.store.credits(device)).plan == "free"


async def test_an_invoice_of_another_amount_is_flagged(api: Api) -> None:
    device, sub = await subscribe(api)
    [renewal] = api.standin.renew(sub)
    renewal["data"]["object"]["amount_paid"] = 100
    assert (await api.deliver(renewal)).json()["outcome"] == "review"
    assert await subscription_credits(api, device) == 1000


async def test_the_portal_opens_for_a_device_that_has_paid(api: Api) -> None:
    device, _ = await subscribe(api)
    answer = await api.post(device, "/api/v1/billing/portal")
    assert answer.status_code == 200
    assert "/portal/" in answer.json()["url"]
    [(params, _)] = api.standin.calls("POST", "/v1/billing_portal/sessions")
    assert params["customer"].startswith("cus_")


async def test_the_portal_before_any_purchase_says_what_to_do(api: Api) -> None:
    device = await api.device()
    answer = await api.post(device, "/api/v1/billing/portal")
    assert answer.status_code == 409
    assert "first purchase" in answer.json()["error"]["message"]


async def test_polling_a_pro_session_says_fulfilled_once_its_invoice_arrived(api: Api) -> None:
    device = await api.device()
    answer = await api.post(device, "/api/v1/billing/subscribe")
    session = answer.json()["session_id"]
    events = api.standin.pay_session(session)
    poll = await api.get(device, f"/api/v1/billing/session/{session}")
    assert poll.json()["paid"] is True
    assert poll.json()["fulfilled"] is False
    await deliver_all(api, events)
    poll = await api.get(device, f"/api/v1/billing/session/{session}")
    assert poll.json()["fulfilled"] is True
    assert poll.json()["credits_remaining"] == 1025
