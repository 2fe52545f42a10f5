"""Webhook signature verification: the stripe library's check on the raw body, plus the two
guards it lacks (a future timestamp, and a tolerance of 0 that would switch the age check off).

``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]``; every configured secret is tried, so a
rotation (old and new secret side by side) loses no event.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import stripe

DEFAULT_TOLERANCE_S = 300


class SignatureError(Exception):
    """The webhook is not provably from Stripe and recent; ``str()`` says why (no secret in it)."""


def check_tolerance(tolerance_s: int) -> int:
    """``tolerance_s`` when usable; 0 or less would let stripe skip the age check entirely."""
    if isinstance(tolerance_s, bool) or not isinstance(tolerance_s, int) or tolerance_s <= 0:
        raise ValueError("the webhook tolerance must be a whole number of seconds above 0")
    return tolerance_s


def verify(
    raw: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Accept ``raw`` only when ``header`` signs it with one of ``secrets`` within the tolerance
    on both sides of ``now`` (default: the wall clock, which stripe also reads)."""
    tolerance = check_tolerance(tolerance_s)
    if not header:
        raise SignatureError("the Stripe-Signature header is missing")
    if not secrets:
        raise SignatureError("no webhook secret is configured")
    try:
        payload = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("the body is not UTF-8") from None
    stamp = _timestamp(header)
    if stamp is None:
        raise SignatureError("the Stripe-Signature header has no usable timestamp")
    if stamp > (time.time() if now is None else now) + tolerance:
        raise SignatureError("the webhook is dated in the future")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=tolerance)
        except stripe.SignatureVerificationError as exc:
            reason = str(exc.user_message or "")
            if "tolerance" in reason:
                raise SignatureError("the webhook is older than the tolerance") from None
            continue
        return
    raise SignatureError("the signature matches no configured webhook secret")


def _timestamp(header: str) -> int | None:
    """The ``t=`` value of the header, None when absent or not a number."""
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep and key == "t":
            return int(value) if value.isdigit() else None
    return None
