"""Webhook signatures (billing-anchors §8 cases 21-25): only a recent body signed with a
configured secret is applied; everything else is a 400 that changes nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from promptready.cloud.billing.settings import BillingSettings, load_billing
from promptready.cloud.billing.signature import SignatureError, check_tolerance, verify
from promptready.cloud.store import Bucket
from promptready.errors import ConfigError
from tests.cloud.billing.conftest import OLD_SECRET, SECRET, Api, app_for, with_settings

BODY = b'{"id":"evt_1","type":"ping","created":1,"data":{"object":{}}}'


def header(body: bytes, secret: str, *, at: float | None = None) -> str:
    stamp = int(time.time() if at is None else at)
    return str(
        stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=stamp)
    )


def test_a_body_signed_with_the_secret_is_accepted() -> None:
    verify(BODY, header(BODY, SECRET), [SECRET])


# Headers are signed when the test runs, not at collection: a stale timestamp would be refused
# for its age instead of the reason named, and parallel workers must collect identical ids.
@pytest.mark.parametrize(
    ("name", "body", "sig"),
    [
        ("wrong secret", BODY, lambda: header(BODY, "whsec_someone_else")),
        ("tampered body", BODY.replace(b"evt_1", b"evt_2"), lambda: header(BODY, SECRET)),
        (
            "re-serialized body",
            json.dumps(json.loads(BODY), indent=1).encode(),
            lambda: header(BODY, SECRET),
        ),
        ("no header", BODY, lambda: ""),
        ("garbage header", BODY, lambda: "not a signature at all"),
        ("timestamp only", BODY, lambda: "t=12345"),
        ("v0 only", BODY, lambda: header(BODY, SECRET).replace("v1=", "v0=")),
        ("non-numeric timestamp", BODY, lambda: header(BODY, SECRET).replace("t=", "t=x")),
    ],
)
def test_anything_not_signed_with_a_configured_secret_is_refused(
    name: str, body: bytes, sig: Callable[[], str]
) -> None:
    with pytest.raises(SignatureError):
        verify(body, sig(), [SECRET])


def test_a_signature_older_than_the_tolerance_is_refused() -> None:
    with pytest.raises(SignatureError, match="older"):
        verify(BODY, header(BODY, SECRET, at=time.time() - 301), [SECRET], tolerance_s=300)


def test_a_signature_dated_in_the_future_beyond_the_tolerance_is_refused() -> None:
    # stripe-python accepts this one; the check is billing's own.
    future = header(BODY, SECRET, at=time.time() + 3600)
    stripe.WebhookSignature.verify_header(BODY.decode(), future, SECRET, tolerance=300)
    with pytest.raises(SignatureError, match="future"):
        verify(BODY, future, [SECRET], tolerance_s=300)


def test_a_little_clock_skew_either_way_is_accepted() -> None:
    verify(BODY, header(BODY, SECRET, at=time.time() + 60), [SECRET], tolerance_s=300)
    verify(BODY, header(BODY, SECRET, at=time.time() - 60), [SECRET], tolerance_s=300)


def test_during_rotation_a_header_with_two_signatures_one_current_is_accepted() -> None:
    stamp = int(time.time())
    new = header(BODY, SECRET, at=stamp)
    old = header(BODY, OLD_SECRET, at=stamp)
    both = f"{new},{old.split(',')[1]}"
    verify(BODY, both, [SECRET])
    verify(BODY, old, [SECRET, OLD_SECRET])  # both secrets configured while rotating


def test_after_rotation_the_old_secret_is_refused() -> None:
    with pytest.raises(SignatureError):
        verify(BODY, header(BODY, OLD_SECRET), [SECRET])


@pytest.mark.parametrize("tolerance", [0, -1, None, True, 1.5])
def test_the_tolerance_can_never_switch_the_age_check_off(tolerance: Any) -> None:
    with pytest.raises(ValueError, match="above 0"):
        check_tolerance(tolerance)
    with pytest.raises(ValueError, match="above 0"):
        BillingSettings(api_key="sk", webhook_secrets=(SECRET,), webhook_tolerance_s=tolerance)


@pytest.mark.parametrize("value", ["0", "-5", "none", "", "1e3"])
def test_a_bad_tolerance_in_the_environment_is_one_line_naming_it(value: str) -> None:
    env = {
        "STRIPE_API_KEY": "sk_test_x",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "PROMPTREADY_CLOUD_BILLING_WEBHOOK_TOLERANCE_S": value,
    }
    with pytest.raises(ConfigError, match="PROMPTREADY_CLOUD_BILLING_WEBHOOK_TOLERANCE_S"):
        load_billing(env)


def test_billing_needs_a_webhook_secret_and_never_echoes_one() -> None:
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET is not set"):
        load_billing({"STRIPE_API_KEY": "sk_test_secret_value"})
    settings = load_billing(
        {"STRIPE_API_KEY": "sk_live_abc", "STRIPE_WEBHOOK_SECRET": "whsec_a, whsec_b"}
    )
    assert settings is not None
    assert settings.webhook_secrets == ("whsec_a", "whsec_b")
    assert "sk_live_abc" not in repr(settings)
    assert "whsec_a" not in repr(settings)


def test_billing_is_off_without_a_stripe_key() -> None:
    assert load_billing({}) is None


# The same cases through the endpoint: 400 and nothing granted.


async def _paid_event(api: Api) -> tuple[Any, dict[str, Any]]:
    device = await api.device()
    session = await api.buy(device, "Starter")
    return device, api.standin.pay_session(session)[0]


async def test_the_endpoint_refuses_a_bad_signature_and_grants_nothing(api: Api) -> None:
    device, event = await _paid_event(api)
    body, headers = api.standin.signed(event, "whsec_wrong")
    answer = await api.http.post("/api/v1/billing/webhook", content=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "webhook_refused"
    assert SECRET not in answer.text
    assert (await api.billing.store.credits(device)).buckets[Bucket.PURCHASED] == 0


async def test_the_endpoint_refuses_a_reserialized_body(api: Api) -> None:
    device, event = await _paid_event(api)
    body, headers = api.standin.signed(event, SECRET)
    pretty = json.dumps(json.loads(body), indent=2).encode()
    answer = await api.http.post("/api/v1/billing/webhook", content=pretty, headers=headers)
    assert answer.status_code == 400
    assert (await api.billing.store.credits(device)).buckets[Bucket.PURCHASED] == 0


async def test_the_endpoint_refuses_old_and_future_timestamps(api: Api) -> None:
    device, event = await _paid_event(api)
    for at in (int(time.time()) - 301, int(time.time()) + 301):
        assert (await api.deliver(event, timestamp=at)).status_code == 400
    assert (await api.billing.store.credits(device)).buckets[Bucket.PURCHASED] == 0
    assert (await api.deliver(event)).status_code == 200
    assert (await api.billing.store.credits(device)).buckets[Bucket.PURCHASED] == 250


async def test_the_endpoint_accepts_the_old_secret_only_while_it_is_configured(api: Api) -> None:
    import httpx

    device, event = await _paid_event(api)
    rotating = with_settings(api.billing, webhook_secrets=(SECRET, OLD_SECRET))
    transport = httpx.ASGITransport(app=app_for(rotating))
    async with httpx.AsyncClient(transport=transport, base_url="http://billing.test") as http:
        body, headers = api.standin.signed(event, OLD_SECRET)
        assert (
            await http.post("/api/v1/billing/webhook", content=body, headers=headers)
        ).status_code == 200
    assert (await api.deliver(event, secret=OLD_SECRET)).status_code == 400
    assert (await api.billing.store.credits(device)).buckets[Bucket.PURCHASED] == 250


async def test_a_signed_body_that_is_not_an_event_is_a_400(api: Api) -> None:
    for body in (b"[1, 2]", b"not json", b'{"id": "evt_x"}', "\u00e9".encode("latin-1")):
        sig = header(body, SECRET) if body != "\u00e9".encode("latin-1") else "t=1,v1=00"
        answer = await api.http.post(
            "/api/v1/billing/webhook", content=body, headers={"stripe-signature": sig}
        )
        assert answer.status_code == 400, body
