"""Stripe objects as typed values, parsed once from a webhook payload or an API answer.

Pure: the input is a plain mapping (JSON from a webhook, ``StripeObject.to_dict()`` from the
library). A field that is missing or of the wrong type raises ``PayloadError`` naming it, so a
signed but malformed event never half-applies. Amounts are Stripe's integer minor units (cents).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Metadata keys the app writes on the objects it creates, read back from the events.
META_DEVICE = "device_id"
META_PACK = "pack"
META_KIND = "kind"
META_RELOAD = "reload_key"
KIND_CHECKOUT = "checkout"
KIND_RELOAD = "auto_reload"
KIND_PRO = "pro"


class PayloadError(ValueError):
    """A Stripe object lacks a field the handler needs, or has it with the wrong type."""


@dataclass(frozen=True)
class CheckoutSession:
    """A Checkout Session: one pack purchase (mode payment) or the start of Pro (subscription)."""

    id: str
    mode: str
    paid: bool
    device_id: uuid.UUID | None
    pack: str | None
    amount_total: int | None
    currency: str | None
    customer: str | None
    payment_intent: str | None
    subscription: str | None
    created: int
    url: str | None


@dataclass(frozen=True)
class Charge:
    """A charge; ``amount_refunded`` is cumulative over all its refunds."""

    id: str
    amount: int
    amount_refunded: int
    currency: str
    payment_intent: str | None
    created: int


@dataclass(frozen=True)
class Refund:
    """One refund of a charge."""

    id: str
    amount: int
    charge: str | None
    status: str
    created: int


@dataclass(frozen=True)
class PaymentIntent:
    """A PaymentIntent; ``error_code`` comes from ``last_payment_error`` when it failed."""

    id: str
    amount: int
    currency: str
    status: str
    customer: str | None
    kind: str | None
    device_id: uuid.UUID | None
    reload_key: str | None
    error_code: str | None
    error_message: str | None


@dataclass(frozen=True)
class Invoice:
    """A subscription invoice (Pro's monthly payment)."""

    id: str
    amount_paid: int
    currency: str
    status: str
    customer: str | None
    subscription: str | None
    payment_intent: str | None
    device_id: uuid.UUID | None
    created: int


@dataclass(frozen=True)
class Subscription:
    """A subscription; ``current_period_end`` is when a cancelled plan really ends."""

    id: str
    customer: str | None
    status: str
    current_period_end: int | None
    device_id: uuid.UUID | None


@dataclass(frozen=True)
class Dispute:
    """A dispute on a charge."""

    id: str
    charge: str
    payment_intent: str | None
    amount: int
    status: str
    created: int


@dataclass(frozen=True)
class Event:
    """A verified webhook event: its id, type and the object it reports."""

    id: str
    type: str
    created: int
    obj: Mapping[str, Any]
    previous: Mapping[str, Any]


def parse_event(raw: object) -> Event:
    """The event envelope of a webhook body (already verified and decoded from JSON)."""
    body = _mapping("event", raw)
    data = _mapping("data", body.get("data"))
    previous = data.get("previous_attributes")
    return Event(
        id=_required_str(body, "id"),
        type=_required_str(body, "type"),
        created=_required_int(body, "created"),
        obj=_mapping("data.object", data.get("object")),
        previous=previous if isinstance(previous, Mapping) else {},
    )


def parse_session(obj: Mapping[str, Any]) -> CheckoutSession:
    """A Checkout Session; ``paid`` when Stripe says the money arrived (or none was due)."""
    meta = _metadata(obj)
    device = _uuid(_optional_str(obj, "client_reference_id") or meta.get(META_DEVICE))
    return CheckoutSession(
        id=_required_str(obj, "id"),
        mode=_required_str(obj, "mode"),
        paid=_optional_str(obj, "payment_status") in {"paid", "no_payment_required"},
        device_id=device,
        pack=meta.get(META_PACK),
        amount_total=_optional_int(obj, "amount_total"),
        currency=_lower(_optional_str(obj, "currency")),
        customer=_ref(obj, "customer"),
        payment_intent=_ref(obj, "payment_intent"),
        subscription=_ref(obj, "subscription"),
        created=_optional_int(obj, "created") or 0,
        url=_optional_str(obj, "url"),
    )


def parse_charge(obj: Mapping[str, Any]) -> Charge:
    """A charge."""
    return Charge(
        id=_required_str(obj, "id"),
        amount=_required_int(obj, "amount"),
        amount_refunded=_optional_int(obj, "amount_refunded") or 0,
        currency=_required_str(obj, "currency").lower(),
        payment_intent=_ref(obj, "payment_intent"),
        created=_optional_int(obj, "created") or 0,
    )


def parse_refund(obj: Mapping[str, Any]) -> Refund:
    """A refund."""
    return Refund(
        id=_required_str(obj, "id"),
        amount=_required_int(obj, "amount"),
        charge=_ref(obj, "charge"),
        status=_optional_str(obj, "status") or "succeeded",
        created=_optional_int(obj, "created") or 0,
    )


def parse_payment_intent(obj: Mapping[str, Any]) -> PaymentIntent:
    """A PaymentIntent with the app's metadata and the code of its last error, if any."""
    meta = _metadata(obj)
    error = obj.get("last_payment_error")
    error = error if isinstance(error, Mapping) else {}
    code = error.get("decline_code") or error.get("code")
    message = error.get("message")
    return PaymentIntent(
        id=_required_str(obj, "id"),
        amount=_required_int(obj, "amount"),
        currency=_required_str(obj, "currency").lower(),
        status=_optional_str(obj, "status") or "",
        customer=_ref(obj, "customer"),
        kind=meta.get(META_KIND),
        device_id=_uuid(meta.get(META_DEVICE)),
        reload_key=meta.get(META_RELOAD),
        error_code=code if isinstance(code, str) else None,
        error_message=message if isinstance(message, str) else None,
    )


def parse_invoice(obj: Mapping[str, Any]) -> Invoice:
    """An invoice; the subscription and its metadata sit at the top (older API versions) or
    under ``parent.subscription_details`` (2025 versions)."""
    parent = obj.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, Mapping) else None
    details = details if isinstance(details, Mapping) else {}
    meta = _metadata(details) or _metadata(obj.get("subscription_details") or {})
    return Invoice(
        id=_required_str(obj, "id"),
        amount_paid=_required_int(obj, "amount_paid"),
        currency=_required_str(obj, "currency").lower(),
        status=_optional_str(obj, "status") or "",
        customer=_ref(obj, "customer"),
        subscription=_ref(obj, "subscription") or _ref(details, "subscription"),
        payment_intent=_ref(obj, "payment_intent"),
        device_id=_uuid(meta.get(META_DEVICE)),
        created=_optional_int(obj, "created") or 0,
    )


def parse_subscription(obj: Mapping[str, Any]) -> Subscription:
    """A subscription; the period end is on the subscription or, since 2025, on its items."""
    end = _optional_int(obj, "current_period_end")
    items = obj.get("items")
    if end is None and isinstance(items, Mapping) and isinstance(items.get("data"), list):
        ends = [i.get("current_period_end") for i in items["data"] if isinstance(i, Mapping)]
        end = max((e for e in ends if isinstance(e, int)), default=None)
    return Subscription(
        id=_required_str(obj, "id"),
        customer=_ref(obj, "customer"),
        status=_optional_str(obj, "status") or "",
        current_period_end=end,
        device_id=_uuid(_metadata(obj).get(META_DEVICE)),
    )


def parse_dispute(obj: Mapping[str, Any]) -> Dispute:
    """A dispute."""
    charge = _ref(obj, "charge")
    if charge is None:
        raise PayloadError("the dispute names no charge")
    return Dispute(
        id=_required_str(obj, "id"),
        charge=charge,
        payment_intent=_ref(obj, "payment_intent"),
        amount=_required_int(obj, "amount"),
        status=_optional_str(obj, "status") or "",
        created=_optional_int(obj, "created") or 0,
    )


# Field readers: each names the field at fault.


def _mapping(name: str, raw: object) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise PayloadError(f"{name} is not an object")
    return raw


def _required_str(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{key} is missing or not a string")
    return value


def _optional_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise PayloadError(f"{key} is not a string")
    return value


def _required_int(obj: Mapping[str, Any], key: str) -> int:
    value = _optional_int(obj, key)
    if value is None:
        raise PayloadError(f"{key} is missing")
    return value


def _optional_int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise PayloadError(f"{key} is not a whole number")
    return value


def _ref(obj: Mapping[str, Any], key: str) -> str | None:
    """An expandable field: an id, or the expanded object carrying one."""
    value = obj.get(key)
    if isinstance(value, Mapping):
        value = value.get("id")
    if value is not None and not isinstance(value, str):
        raise PayloadError(f"{key} is not an id")
    return value or None


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        return {}
    return {k: v for k, v in meta.items() if isinstance(k, str) and isinstance(v, str)}


def _uuid(text: str | None) -> uuid.UUID | None:
    """A device id, None when absent or not a UUID (an unknown device, flagged by the caller)."""
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _lower(text: str | None) -> str | None:
    return text.lower() if text is not None else None
