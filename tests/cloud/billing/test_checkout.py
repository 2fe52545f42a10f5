"""Buying a pack: Checkout through the real stripe library, fulfilled once by webhook or poll."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace

import httpx

from promptready.cloud.billing.stripe_api import StripeApi
from promptready.cloud.clock import FixedClock
from promptready.cloud.store import Bucket, Store
from tests.cloud.billing.conftest import Api, app_for, billing_env, build


async def test_checkout_creates_a_payment_session_for_the_device_and_pack(api: Api) -> None:
    device = await api.device()
    answer = await api.post(device, "/api/v1/billing/checkout", {"pack": "starter"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["pack"] == "Starter"
    assert body["url"].endswith(body["session_id"])
    [(params, _key)] = api.standin.calls("POST", "/v1/checkout/sessions")
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == str(device)
    assert params["metadata"]["pack"] == "Starter"
    assert params["line_items"][0]["price_data"]["unit_amount"] == "500"
    assert params["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert "session_id={CHECKOUT_SESSION_ID}" in params["success_url"]


async def test_the_customer_is_created_on_the_first_purchase_and_remembered(api: Api) -> None:
    device = await api.device()
    await api.buy(device, "Starter")
    await api.buy(device, "Bulk")
    assert len(api.standin.calls("POST", "/v1/customers")) == 1
    customers = {p["customer"] for p, _ in api.standin.calls("POST", "/v1/checkout/sessions")}
    assert len(customers) == 1


async def test_a_paid_session_webhook_grants_the_pack_once(api: Api) -> None:
    device = await api.device()
    session = await api.buy(device, "Starter")
    for event in api.standin.pay_session(session):
        assert (await api.deliver(event)).status_code == 200
    view = await api.billing.store.credits(device)
    assert view.buckets[Bucket.PURCHASED] == 250


async def test_the_success_page_poll_and_the_webhook_grant_once_in_any_order(api: Api) -> None:
    device = await api.device()
    session = await api.buy(device, "Bulk")
    events = api.standin.pay_session(session)
    poll = await api.get(device, f"/api/v1/billing/session/{session}")
    assert poll.status_code == 200
    assert poll.json()["fulfilled"] is True
    answers = await asyncio.gather(
        *(api.deliver(e) for e in events),
        api.get(device, f"/api/v1/billing/session/{session}"),
    )
    assert all(a.status_code == 200 for a in answers)
    assert (await api.billing.store.credits(device)).buckets[Bucket.PURCHASED] == 1000


async def test_polling_an_unpaid_session_grants_nothing(api: Api) -> None:
    device = await api.device()
    session = await api.buy(device, "Starter")
    poll = await api.get(device, f"/api/v1/billing/session/{session}")
    assert poll.json() == {
        "session_id": session,
        "paid": False,
        "fulfilled": False,
        "credits_remaining": poll.json()["credits_remaining"],
    }
    assert (await api.billing.store.credits(device)).buckets[Bucket.PURCHASED] == 0


async def test_another_devices_session_cannot_be_confirmed(api: Api) -> None:
    buyer, other = await api.device(), await api.device()
    session = await api.buy(buyer, "Starter")
    api.standin.pay_session(session)
    answer = await api.get(other, f"/api/v1/billing/session/{session}")
    assert answer.status_code == 404
    assert (await api.billing.store.credits(other)).buckets[Bucket.PURCHASED] == 0


async def test_a_session_id_that_is_not_one_is_refused(api: Api) -> None:
    device = await api.device()
    answer = await api.get(device, "/api/v1/billing/session/not-a-session")
    assert answer.status_code == 400
    missing = await api.get(device, "/api/v1/billing/session/cs_nope")
    assert missing.status_code == 404


async def test_micro_is_offered_only_at_zero_balance(api: Api) -> None:
    device = await api.device()
    await api.billing.store.credits(device)  # the free monthly allowance arrives
    refused = await api.post(device, "/api/v1/billing/checkout", {"pack": "micro"})
    assert refused.status_code == 409
    assert "only when your balance is 0" in refused.json()["error"]["message"]
    assert api.standin.calls("POST", "/v1/checkout/sessions") == []


async def test_an_unknown_pack_is_a_clear_400(api: Api) -> None:
    device = await api.device()
    for body in ({"pack": "Gigantic"}, {"pack": 5}, {}, {"pack": ""}):
        answer = await api.post(device, "/api/v1/billing/checkout", body)
        assert answer.status_code == 400, body
        assert answer.json()["error"]["param"] == "pack"


async def test_billing_routes_need_a_device_token(api: Api) -> None:
    for method, path in (
        ("POST", "/api/v1/billing/checkout"),
        ("POST", "/api/v1/billing/subscribe"),
        ("POST", "/api/v1/billing/portal"),
        ("GET", "/api/v1/billing/status"),
        ("GET", "/api/v1/billing/auto-reload"),
        ("GET", "/api/v1/billing/session/cs_x"),
    ):
        answer = await api.http.request(method, path, json={"pack": "Starter"})
        assert answer.status_code == 401, path


async def test_stripe_unreachable_is_a_502_that_says_nothing_was_charged(
    api: Api, store: Store, clock: FixedClock
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    billing = build(store, clock, billing_env(closed))
    billing = replace(billing, stripe=StripeApi("sk_test_x", api_base=closed, max_retries=0))
    transport = httpx.ASGITransport(app=app_for(billing))
    async with httpx.AsyncClient(transport=transport, base_url="http://billing.test") as http:
        down = Api(http, billing, api.standin)
        device = await down.device()
        for path, body in (
            ("/api/v1/billing/checkout", {"pack": "Starter"}),
            ("/api/v1/billing/subscribe", {}),
        ):
            answer = await down.post(device, path, body)
            assert answer.status_code == 502, path
            assert "nothing was charged" in answer.json()["error"]["message"]
        answer = await down.get(device, "/api/v1/billing/session/cs_123")
        assert answer.status_code == 502
    await billing.close()


async def test_a_webhook_body_over_a_megabyte_is_refused(api: Api) -> None:
    answer = await api.http.post(
        "/api/v1/billing/webhook",
        content=b"x" * (1024 * 1024 + 1),
        headers={"stripe-signature": "t=1"},
    )
    assert answer.status_code == 413
