"""The Stripe stand-in answers the real stripe library like Stripe: Idempotency-Key replays the
first answer, the same key with other parameters is an idempotency error, unknown ids are 404."""

from __future__ import annotations

import pytest
import stripe

from tests.cloud.billing.stripe_standin import StripeStandin, decode_form


@pytest.fixture
def client(standin: StripeStandin) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_x", base_addresses={"api": standin.url}, max_network_retries=0
    )


def test_the_same_idempotency_key_returns_the_first_object(client: stripe.StripeClient) -> None:
    first = client.v1.customers.create({"metadata": {"a": "1"}}, {"idempotency_key": "k1"})
    again = client.v1.customers.create({"metadata": {"a": "1"}}, {"idempotency_key": "k1"})
    assert first.id == again.id


def test_the_same_key_with_other_parameters_is_refused(client: stripe.StripeClient) -> None:
    client.v1.customers.create({"metadata": {"a": "1"}}, {"idempotency_key": "k2"})
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create({"metadata": {"a": "2"}}, {"idempotency_key": "k2"})


def test_an_unknown_object_is_a_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve("cs_missing")


def test_lists_page_like_stripe(client: stripe.StripeClient, standin: StripeStandin) -> None:
    for _ in range(5):
        client.v1.customers.create()
        client.v1.checkout.sessions.create(
            {
                "mode": "payment",
                "line_items": [{"price_data": {"currency": "usd", "unit_amount": 1}}],
            }
        )
    page = client.v1.checkout.sessions.list({"limit": 2})
    assert page.has_more
    assert len(list(page.auto_paging_iter())) == 5


def test_events_are_signed_with_the_librarys_own_scheme(standin: StripeStandin) -> None:
    body, headers = standin.signed({"id": "evt_1", "object": "event"}, "whsec_x")
    event = stripe.Webhook.construct_event(body, headers["stripe-signature"], "whsec_x")
    assert event.id == "evt_1"


def test_form_encoding_decodes_to_nested_values() -> None:
    assert decode_form("a[b][0][c]=1&a[b][1][c]=2&d=x&e[0]=y") == {
        "a": {"b": [{"c": "1"}, {"c": "2"}]},
        "d": "x",
        "e": ["y"],
    }


def test_a_browser_paying_on_the_checkout_page_gets_the_events_delivered_signed() -> None:
    import threading
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from typing import Any

    received: list[stripe.Event] = []
    arrived = threading.Event()

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            signature = self.headers["stripe-signature"]
            received.append(stripe.Webhook.construct_event(body, signature, "whsec_deliver"))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()
            if len(received) == 2:
                arrived.set()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}/webhook"
    try:
        with StripeStandin(webhook_url=hook, webhook_secret="whsec_deliver") as standin:
            client = stripe.StripeClient("sk_test_x", base_addresses={"api": standin.url})
            customer = client.v1.customers.create()
            session = client.v1.checkout.sessions.create(
                {
                    "mode": "payment",
                    "customer": customer.id,
                    "line_items": [{"price_data": {"currency": "usd", "unit_amount": 500}}],
                }
            )
            assert session.url is not None
            urllib.request.urlopen(session.url, timeout=10).close()
            assert arrived.wait(10)
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(e.type for e in received) == [
        "checkout.session.completed",
        "payment_intent.succeeded",
    ]
