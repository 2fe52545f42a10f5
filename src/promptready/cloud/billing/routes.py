"""Billing's HTTP endpoints under ``/api/v1/billing/`` (plain ASGI, like the app's own routes).

Every endpoint but the webhook takes the device from its bearer token, the same way the app's
routes do (``wire.authenticate``). Stripe being unreachable is a 502 the client may retry; the
webhook answers 400 for anything not provably from Stripe, 200 once applied or replayed, and 5xx
when applying failed (nothing was kept, so Stripe's retry applies it later).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import stripe
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import BaseRoute, Route

from promptready.cloud.billing import autoreload, records
from promptready.cloud.billing.catalog import (
    RELOAD_PACK,
    UnknownPackError,
    find_pack,
    pack_price,
    plan_price,
)
from promptready.cloud.billing.catalog import pro_plan as card_pro_plan
from promptready.cloud.billing.context import Outcome
from promptready.cloud.billing.deps import BillingDeps
from promptready.cloud.billing.fulfil import fulfil_polled
from promptready.cloud.billing.webhook import (
    BadEventError,
    PaymentNotYetKnownError,
    SignatureError,
    end_lapsed_plans,
)
from promptready.cloud.billing.webhook import receive as receive_webhook
from promptready.cloud.errors import ApiError, bad_request, not_found
from promptready.cloud.routes.wire import (
    Receive,
    Scope,
    Send,
    authenticate,
    header,
    read_body,
    read_object,
    send_json,
)

NOTICES_SHOWN = 10
_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")
_PAYMENTS_DOWN = ApiError(
    502,
    "The payment service did not answer; nothing was charged. Try again in a minute.",
    "payments_unavailable",
    type="api_error",
    retry=True,
)


def _device(deps: BillingDeps, scope: Scope) -> uuid.UUID:
    """The one place billing authenticates: the app's bearer-token check."""
    return authenticate(deps.app, scope)


async def _customer(deps: BillingDeps, device_id: uuid.UUID) -> str:
    """The device's Stripe customer, created at its first purchase and then remembered."""

    existing = await records.customer(deps.store, device_id)
    if existing is not None:
        return existing
    customer = await deps.stripe.create_customer(device_id)

    async def write(conn: AsyncConnection) -> str:
        found = await records.account(conn, device_id)
        if found is not None and found.customer is not None:
            return found.customer  # a concurrent first purchase remembered it first
        await records.update_account(conn, device_id, customer=customer)
        return customer

    return await records.once(deps.store, write)


class Checkout:
    """``POST /api/v1/billing/checkout {"pack"}``: a Checkout Session URL for one pack."""

    def __init__(self, deps: BillingDeps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        device_id = _device(self.deps, scope)
        body = await read_object(receive)
        name = body.get("pack")
        if not isinstance(name, str) or not name.strip() or len(name) > 50:
            raise bad_request(
                'pack must be the name of a credit pack, e.g. "Starter".', param="pack"
            )
        try:
            pack = find_pack(self.deps.card, name)
        except UnknownPackError as error:
            raise bad_request(str(error), "unknown_pack", "pack") from None
        if pack.only_at_zero_balance:
            view = await self.deps.store.credits(device_id)
            if view.balance > 0:
                others = ", ".join(p.name for p in self.deps.card.packs_for_balance(view.balance))
                raise ApiError(
                    409,
                    f"The {pack.name} pack is offered only when your balance is 0; choose "
                    f"{others}.",
                    "pack_unavailable",
                    param="pack",
                    retry=False,
                )
        try:
            session = await self.deps.stripe.checkout_pack(
                customer=await _customer(self.deps, device_id),
                device_id=device_id,
                pack=pack_price(pack, self.deps.settings.currency),
                **_return_urls(self.deps),
            )
        except stripe.StripeError:
            raise _PAYMENTS_DOWN from None
        await send_json(
            send, 200, {"url": session.url, "session_id": session.id, "pack": pack.name}
        )


class Subscribe:
    """``POST /api/v1/billing/subscribe``: a Checkout Session URL for the Pro plan."""

    def __init__(self, deps: BillingDeps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        device_id = _device(self.deps, scope)
        await read_body(receive)
        device = await self.deps.store.device(device_id)
        if device is not None and device.plan == "pro":
            raise ApiError(
                409,
                "This device is already on Pro; manage the plan in the billing portal.",
                "already_subscribed",
                retry=False,
            )
        plan = card_pro_plan(self.deps.card)
        try:
            session = await self.deps.stripe.checkout_pro(
                customer=await _customer(self.deps, device_id),
                device_id=device_id,
                plan=plan_price(plan, self.deps.settings.currency),
                **_return_urls(self.deps),
            )
        except stripe.StripeError:
            raise _PAYMENTS_DOWN from None
        await send_json(send, 200, {"url": session.url, "session_id": session.id})


class Portal:
    """``POST /api/v1/billing/portal``: a Customer Portal URL (history, card, cancel Pro)."""

    def __init__(self, deps: BillingDeps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        device_id = _device(self.deps, scope)
        await read_body(receive)
        customer = await records.customer(self.deps.store, device_id)
        if customer is None:
            raise ApiError(
                409,
                "The billing portal opens after your first purchase; buy a pack or subscribe.",
                "no_billing_account",
                retry=False,
            )
        try:
            url = await self.deps.stripe.portal(
                customer=customer, return_url=self.deps.settings.return_url
            )
        except stripe.StripeError:
            raise _PAYMENTS_DOWN from None
        await send_json(send, 200, {"url": url})


class SessionStatus:
    """``GET /api/v1/billing/session/{id}``: confirm a payment after the redirect (the same
    fulfilment as the webhook, so whichever comes first grants and the other changes nothing)."""

    def __init__(self, deps: BillingDeps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        device_id = _device(self.deps, scope)
        session_id = str(scope.get("path_params", {}).get("session_id", ""))
        if not _SESSION_ID.fullmatch(session_id):
            raise bad_request(
                "The session id must be a Checkout Session id (cs_…).", "invalid_session"
            )
        try:
            session = await self.deps.stripe.session(session_id)
        except stripe.InvalidRequestError:
            raise not_found("There is no such checkout session.") from None
        except stripe.StripeError:
            raise _PAYMENTS_DOWN from None
        if session.device_id != device_id:
            raise not_found("There is no such checkout session.")  # never confirm another's
        outcome = await fulfil_polled(self.deps, session)
        view = await self.deps.store.credits(device_id)
        await send_json(
            send,
            200,
            {
                "session_id": session.id,
                "paid": session.paid,
                "fulfilled": outcome in (Outcome.APPLIED, Outcome.REPLAYED),
                "credits_remaining": view.available,
            },
        )


class AutoReloadSwitch:
    """``GET`` / ``POST /api/v1/billing/auto-reload {"enabled": bool}``."""

    def __init__(self, deps: BillingDeps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        device_id = _device(self.deps, scope)
        if scope["method"] == "POST":
            body = await read_object(receive)
            enabled = body.get("enabled")
            if not isinstance(enabled, bool):
                raise bad_request("enabled must be true or false.", param="enabled")
            state = await autoreload.switch(self.deps, device_id, enabled)
        else:
            state = await autoreload.state(self.deps, device_id)
        await send_json(send, 200, _reload_fields(self.deps, state))


class Status:
    """``GET /api/v1/billing/status``: plan, auto-reload, and payments that did not go through."""

    def __init__(self, deps: BillingDeps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        device_id = _device(self.deps, scope)
        await end_lapsed_plans(self.deps)
        device = await self.deps.store.device(device_id)
        state = await autoreload.state(self.deps, device_id)

        async def read(
            conn: AsyncConnection,
        ) -> tuple[records.Account | None, list[records.Notice]]:
            found = await records.account(conn, device_id)
            return found, await records.recent_notices(conn, device_id, NOTICES_SHOWN)

        found, notices = await records.once(self.deps.store, read)
        await send_json(
            send,
            200,
            {
                "plan": device.plan if device else "free",
                "pro_ends_at": found.pro_ends_at if found else None,
                "auto_reload": _reload_fields(self.deps, state),
                "notices": [
                    {"kind": n.kind, "message": n.message, "at": n.created_at} for n in notices
                ],
            },
        )


class Webhook:
    """``POST /api/v1/billing/webhook``: Stripe's events, verified on the raw body."""

    def __init__(self, deps: BillingDeps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = await read_body(receive)
        counter = self.deps.metrics.webhooks
        try:
            outcome = await receive_webhook(self.deps, raw, header(scope, b"stripe-signature"))
        except (SignatureError, BadEventError) as refused:
            counter.labels("refused").inc()
            raise bad_request(f"The webhook was refused: {refused}.", "webhook_refused") from None
        except PaymentNotYetKnownError as early:
            counter.labels("deferred").inc()
            raise ApiError(
                409, f"Retry later: {early}.", "payment_not_yet_known", retry=True
            ) from None
        except Exception:
            counter.labels("failed").inc()
            raise
        counter.labels(outcome.value).inc()
        await send_json(send, 200, {"received": True, "outcome": outcome.value})


def _return_urls(deps: BillingDeps) -> dict[str, str]:
    base = deps.settings.return_url
    joiner = "&" if "?" in base else "?"
    return {
        "success_url": f"{base}{joiner}session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base}{joiner}cancelled=1",
    }


def _reload_fields(deps: BillingDeps, state: autoreload.AutoReload) -> dict[str, Any]:
    return {
        "enabled": state.enabled,
        "off_reason": state.off_reason,
        "has_payment_method": state.has_payment_method,
        "below": deps.card.balance.auto_reload_below,
        "pack": RELOAD_PACK,
    }


def billing_routes(deps: BillingDeps) -> list[BaseRoute]:
    """Billing's routes, each endpoint built once and observed like the app's own."""
    from promptready.cloud.app import Observed  # the app imports this module to mount it

    table: list[tuple[list[str], str, Any]] = [
        (["POST"], "/api/v1/billing/checkout", Checkout(deps)),
        (["GET"], "/api/v1/billing/session/{session_id}", SessionStatus(deps)),
        (["POST"], "/api/v1/billing/subscribe", Subscribe(deps)),
        (["POST"], "/api/v1/billing/portal", Portal(deps)),
        (["GET", "POST"], "/api/v1/billing/auto-reload", AutoReloadSwitch(deps)),
        (["GET"], "/api/v1/billing/status", Status(deps)),
        (["POST"], "/api/v1/billing/webhook", Webhook(deps)),
    ]
    return [
        Route(path, Observed(path, endpoint, deps.app.metrics), methods=methods)
        for methods, path, endpoint in table
    ]
