"""Every error the proxy answers, in OpenAI's shape plus the product's ``status`` field.

``{"error": {"message", "type", "param", "code"}, "status"?: ...}``. Terminal budget errors
(402, 503) carry ``x-should-retry: false`` so the OpenAI SDK makes exactly one attempt; 429 and
503 carry ``Retry-After``. Messages are one sentence for a person and never quote a device id,
a secret or the request's text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from promptready.cloud import store

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class ApiError(Exception):
    """An error answer: HTTP status, OpenAI error fields, and the headers clients act on."""

    status: int
    message: str
    code: str
    type: str = "invalid_request_error"
    param: str | None = None
    product_status: str | None = None  # the top-level "status" field
    retry: bool | None = None
    retry_after_s: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # more top-level fields

    def __str__(self) -> str:
        return self.message

    def payload(self) -> dict[str, Any]:
        """The JSON object of the body."""
        error = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        body: dict[str, Any] = {"error": error}
        if self.product_status is not None:
            body["status"] = self.product_status
        body.update(self.extra)
        return body

    def body(self) -> bytes:
        """The encoded body."""
        return orjson.dumps(self.payload())

    def headers(self) -> Headers:
        """``x-should-retry`` and ``Retry-After`` where they apply."""
        found: Headers = []
        if self.retry is not None:
            found.append((b"x-should-retry", b"true" if self.retry else b"false"))
        if self.retry_after_s is not None:
            found.append((b"retry-after", str(self.retry_after_s).encode()))
        return found


def bad_request(message: str, code: str = "invalid_request", param: str | None = None) -> ApiError:
    """A 400 for a body or header the proxy cannot use."""
    return ApiError(400, message, code, param=param, retry=False)


def too_large(limit: int) -> ApiError:
    """A 413 for a body over the limit."""
    return ApiError(
        413, f"The request body is larger than {limit} bytes.", "request_too_large", retry=False
    )


def not_found(message: str) -> ApiError:
    return ApiError(404, message, "not_found", retry=False)


def upstream_failed(message: str) -> ApiError:
    """A 502: the model provider failed; nothing was charged."""
    return ApiError(
        502, message + " Nothing was charged; try again.", "upstream_error", type="api_error"
    )


def unavailable(message: str) -> ApiError:
    """A 503 for a dependency (the database) that did not answer; nothing was charged."""
    return ApiError(503, message, "service_unavailable", type="api_error", retry_after_s=1)


def from_store(error: store.StoreError, now: datetime) -> ApiError:
    """The answer for a refusal by the store (breaker, wallet, rate limit, registration)."""
    if isinstance(error, store.BreakerOpen):
        wait = max(1, math.ceil((error.resets_at - now).total_seconds()))
        return ApiError(
            503,
            "The service has reached its weekly capacity; try again after it resets "
            "or use your own provider key.",
            "service_budget_exhausted",
            type="service_unavailable",
            product_status="SERVICE_AT_CAPACITY",
            retry=False,
            retry_after_s=wait,
            extra={"resets_at": error.resets_at.isoformat()},
        )
    if isinstance(error, store.InsufficientCredits):
        return ApiError(
            402,
            "This device has no credits left for this request; buy credits or wait for the "
            "monthly free allowance.",
            "insufficient_credits",
            type="insufficient_credits",
            product_status="INSUFFICIENT_CREDITS",
            retry=False,
            extra={"credits_remaining": error.available, "credits_required": error.required},
        )
    if isinstance(error, store.WalletFrozen):
        return ApiError(
            403,
            "This device's wallet is frozen while a payment dispute is open; contact support.",
            "wallet_frozen",
            type="permission_error",
            product_status="WALLET_FROZEN",
            retry=False,
        )
    if isinstance(error, store.RateLimited | store.RegistrationLimited):
        wait = max(1, math.ceil(error.retry_after_s))
        return ApiError(
            429,
            f"Too many requests; wait {wait} s and try again.",
            "rate_limited",
            type="rate_limit_error",
            product_status="RATE_LIMITED",
            retry_after_s=wait,
        )
    if isinstance(error, store.IdempotencyInFlight):
        return ApiError(
            409,
            "A request with this Idempotency-Key is still running; retry once it has finished.",
            "idempotency_in_flight",
            retry_after_s=1,
        )
    if isinstance(error, store.DeviceExists):
        return ApiError(
            409,
            "This device is already registered; refresh its token with the device secret.",
            "device_exists",
            retry=False,
        )
    if isinstance(error, store.DeviceUnknown):
        return ApiError(
            401,
            "This device is not registered; register it again.",
            "invalid_token",
            type="authentication_error",
            retry=False,
        )
    if isinstance(error, store.AlreadyClaimed):
        return ApiError(
            409,
            "This device has already claimed its migration credits.",
            "already_claimed",
            retry=False,
        )
    if isinstance(error, store.GrantBudgetExhausted):
        return ApiError(
            503,
            "No more migration credits can be granted this month; try again next month.",
            "grant_budget_exhausted",
            type="service_unavailable",
            retry=False,
        )
    return ApiError(500, "The request could not be completed.", "internal_error", type="api_error")
