"""A thin typed wrapper over the real ``stripe`` library: the calls billing makes, and nothing else.

One ``StripeClient`` per process with the async httpx transport; ``api_base`` points it at a
Stripe stand-in in tests. Answers come back as the typed values of ``stripe_objects``. Stripe's
own errors pass through except a declined off-session charge, which is an answer, not a failure.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import stripe

from promptready.cloud.billing.stripe_objects import (
    KIND_CHECKOUT,
    KIND_PRO,
    KIND_RELOAD,
    META_DEVICE,
    META_KIND,
    META_PACK,
    META_RELOAD,
    Charge,
    CheckoutSession,
    Dispute,
    Invoice,
    PaymentIntent,
    Refund,
    parse_charge,
    parse_dispute,
    parse_invoice,
    parse_payment_intent,
    parse_refund,
    parse_session,
)


@dataclass(frozen=True)
class PackPrice:
    """What Checkout charges for one pack: the rate card's pack in minor units."""

    name: str
    amount: int
    currency: str


@dataclass(frozen=True)
class OffSessionResult:
    """The outcome of an off-session charge: succeeded, or failed with Stripe's code."""

    payment_intent: str | None
    succeeded: bool
    error_code: str | None


class StripeApi:
    """The Stripe calls billing makes, typed."""

    def __init__(self, api_key: str, *, api_base: str | None = None, max_retries: int = 2) -> None:
        # aiohttp, not httpx: stripe's httpx transport uploads with a form httpx deprecates.
        self._http = stripe.AIOHTTPClient()
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=max_retries,
        )

    async def close(self) -> None:
        """Close the connection pool (the app's lifespan calls this at shutdown)."""
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def create_customer(self, device_id: uuid.UUID) -> str:
        """A new Stripe customer for the device (made at its first purchase, then remembered)."""
        customer = await self._client.v1.customers.create_async(
            {"metadata": {META_DEVICE: str(device_id)}},
            {"idempotency_key": f"customer:{device_id}"},
        )
        return str(customer.id)

    async def checkout_pack(
        self,
        *,
        customer: str,
        device_id: uuid.UUID,
        pack: PackPrice,
        success_url: str,
        cancel_url: str,
    ) -> CheckoutSession:
        """A payment-mode Checkout Session for one pack; the card is saved for auto-reload."""
        meta = {META_DEVICE: str(device_id), META_PACK: pack.name, META_KIND: KIND_CHECKOUT}
        params: Any = {
            "mode": "payment",
            "customer": customer,
            "client_reference_id": str(device_id),
            "metadata": meta,
            "line_items": [_line_item(pack)],
            "payment_intent_data": {"setup_future_usage": "off_session", "metadata": meta},
            "invoice_creation": {"enabled": True},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        session = await self._client.v1.checkout.sessions.create_async(params)
        return parse_session(session.to_dict())

    async def checkout_pro(
        self,
        *,
        customer: str,
        device_id: uuid.UUID,
        plan: PackPrice,
        success_url: str,
        cancel_url: str,
    ) -> CheckoutSession:
        """A subscription-mode Checkout Session for Pro (monthly)."""
        meta = {META_DEVICE: str(device_id), META_KIND: KIND_PRO}
        item = _line_item(plan)
        item["price_data"]["recurring"] = {"interval": "month"}
        params: Any = {
            "mode": "subscription",
            "customer": customer,
            "client_reference_id": str(device_id),
            "metadata": meta,
            "line_items": [item],
            "subscription_data": {"metadata": meta},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        session = await self._client.v1.checkout.sessions.create_async(params)
        return parse_session(session.to_dict())

    async def portal(self, *, customer: str, return_url: str) -> str:
        """The URL of a Customer Portal session (billing history, payment method, cancel)."""
        session = await self._client.v1.billing_portal.sessions.create_async(
            {"customer": customer, "return_url": return_url}
        )
        return str(session.url)

    async def session(self, session_id: str) -> CheckoutSession:
        """A Checkout Session as Stripe has it now."""
        session = await self._client.v1.checkout.sessions.retrieve_async(session_id)
        return parse_session(session.to_dict())

    async def saved_payment_method(self, customer: str) -> str | None:
        """The customer's most recently saved card, None when it has none."""
        methods = await self._client.v1.customers.payment_methods.list_async(
            customer, {"type": "card", "limit": 1}
        )
        return next((str(m.id) for m in methods.data), None)

    async def charge_off_session(
        self,
        *,
        customer: str,
        payment_method: str,
        pack: PackPrice,
        device_id: uuid.UUID,
        reload_key: str,
    ) -> OffSessionResult:
        """Charge a saved card for one pack without the user; ``reload_key`` is the
        Idempotency-Key, so a retried call (or a crash between charge and record) charges once."""
        params: Any = {
            "amount": pack.amount,
            "currency": pack.currency,
            "customer": customer,
            "payment_method": payment_method,
            "off_session": True,
            "confirm": True,
            "metadata": {
                META_DEVICE: str(device_id),
                META_PACK: pack.name,
                META_KIND: KIND_RELOAD,
                META_RELOAD: reload_key,
            },
        }
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params, {"idempotency_key": reload_key}
            )
        except stripe.CardError as exc:
            error = exc.error
            code = (error.decline_code or error.code) if error is not None else exc.code
            failed = error.payment_intent if error is not None else None
            return OffSessionResult(failed.id if failed else None, False, code or "card_error")
        parsed = parse_payment_intent(intent.to_dict())
        return OffSessionResult(parsed.id, parsed.status == "succeeded", parsed.error_code)

    async def sessions(self, since: int) -> AsyncIterator[CheckoutSession]:
        """Every Checkout Session created at or after ``since`` (unix seconds)."""
        page = await self._client.v1.checkout.sessions.list_async(
            {"created": {"gte": since}, "limit": 100}
        )
        async for item in page.auto_paging_iter():
            yield parse_session(item.to_dict())

    async def charges(self, since: int) -> AsyncIterator[Charge]:
        """Every charge created at or after ``since``."""
        page = await self._client.v1.charges.list_async({"created": {"gte": since}, "limit": 100})
        async for item in page.auto_paging_iter():
            yield parse_charge(item.to_dict())

    async def refunds(self, since: int) -> AsyncIterator[Refund]:
        """Every refund created at or after ``since``."""
        page = await self._client.v1.refunds.list_async({"created": {"gte": since}, "limit": 100})
        async for item in page.auto_paging_iter():
            yield parse_refund(item.to_dict())

    async def invoices(self, since: int) -> AsyncIterator[Invoice]:
        """Every invoice created at or after ``since``."""
        page = await self._client.v1.invoices.list_async({"created": {"gte": since}, "limit": 100})
        async for item in page.auto_paging_iter():
            yield parse_invoice(item.to_dict())

    async def disputes(self, since: int) -> AsyncIterator[Dispute]:
        """Every dispute created at or after ``since``."""
        page = await self._client.v1.disputes.list_async({"created": {"gte": since}, "limit": 100})
        async for item in page.auto_paging_iter():
            yield parse_dispute(item.to_dict())

    async def payment_intent(self, intent_id: str) -> PaymentIntent:
        """A PaymentIntent as Stripe has it now."""
        intent = await self._client.v1.payment_intents.retrieve_async(intent_id)
        return parse_payment_intent(intent.to_dict())


def _line_item(price: PackPrice) -> dict[str, Any]:
    return {
        "quantity": 1,
        "price_data": {
            "currency": price.currency,
            "unit_amount": price.amount,
            "product_data": {"name": f"PromptReady {price.name}"},
        },
    }
