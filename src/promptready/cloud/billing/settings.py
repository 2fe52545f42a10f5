"""Billing's configuration, from the environment: declared once in ``VARIABLES``, parsed once.

Stripe's own names (``STRIPE_API_KEY``, ``STRIPE_WEBHOOK_SECRET``) as the issue and Stripe's docs
use them; the rest under ``PROMPTREADY_CLOUD_BILLING_``. Billing is off unless ``STRIPE_API_KEY``
is set. A bad value is a ``ConfigError`` of one line naming the variable, never echoing a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from promptready.cloud.billing.signature import DEFAULT_TOLERANCE_S, check_tolerance
from promptready.errors import ConfigError

_PREFIX = "PROMPTREADY_CLOUD_BILLING_"


@dataclass(frozen=True)
class BillingVariable:
    """One environment variable: full name, default ('' = unset) and meaning."""

    env: str
    default: str
    help: str


VARIABLES: tuple[BillingVariable, ...] = (
    BillingVariable("STRIPE_API_KEY", "", "Stripe secret key (`sk_…`); unset: billing is off."),
    BillingVariable(
        "STRIPE_WEBHOOK_SECRET",
        "",
        "Required with billing: the webhook endpoint's `whsec_…` secret; during a rotation, "
        "comma-separated (new and old).",
    ),
    BillingVariable("STRIPE_API_BASE", "", "Another Stripe API address (a stand-in for tests)."),
    BillingVariable(
        _PREFIX + "WEBHOOK_TOLERANCE_S",
        str(DEFAULT_TOLERANCE_S),
        "Seconds a webhook signature stays valid, either side of now (at least 1).",
    ),
    BillingVariable(
        _PREFIX + "RETURN_URL",
        "https://promptready.app/billing",
        "Where Checkout and the portal send the browser back (`?session_id=` is added on success).",
    ),
    BillingVariable(_PREFIX + "CURRENCY", "usd", "The three-letter currency of every price."),
    BillingVariable(
        _PREFIX + "RELOADS_PER_MONTH", "4", "The most auto-reloads charged per wallet per month."
    ),
    BillingVariable(
        _PREFIX + "RELOAD_BACKOFF_S",
        "3600",
        "Seconds to wait after a declined auto-reload before the next try (doubled each time).",
    ),
    BillingVariable(
        _PREFIX + "METERING_URL",
        "",
        "An OpenMeter-compatible CloudEvents ingest URL; unset: the metering export is off.",
    ),
    BillingVariable(_PREFIX + "METERING_TOKEN", "", "Bearer token for the metering ingest."),
)
_DEFAULTS = {v.env: v.default for v in VARIABLES}


@dataclass(frozen=True, kw_only=True)
class BillingSettings:
    """Billing's knobs, typed; secrets are kept out of ``repr``."""

    api_key: str = field(repr=False)
    api_base: str | None = None
    webhook_secrets: tuple[str, ...] = field(repr=False)
    webhook_tolerance_s: int = DEFAULT_TOLERANCE_S
    return_url: str = "https://promptready.app/billing"
    currency: str = "usd"
    reloads_per_month: int = 4
    reload_backoff_s: int = 3600
    metering_url: str | None = None
    metering_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_tolerance(self.webhook_tolerance_s)


def load_billing(env: Mapping[str, str]) -> BillingSettings | None:
    """Billing's settings from ``env``; None when ``STRIPE_API_KEY`` is unset (billing off)."""

    def raw(name: str) -> str:
        return env.get(name, _DEFAULTS[name]).strip()

    def number(name: str, minimum: int) -> int:
        text = raw(name)
        if not re.fullmatch(r"\d{1,9}", text) or int(text) < minimum:
            raise ConfigError(f"{name} must be a whole number of at least {minimum}, not {text!r}")
        return int(text)

    api_key = raw("STRIPE_API_KEY")
    if not api_key:
        return None
    secrets = tuple(s.strip() for s in raw("STRIPE_WEBHOOK_SECRET").split(",") if s.strip())
    if not secrets:
        raise ConfigError("STRIPE_WEBHOOK_SECRET is not set; billing needs the webhook secret")
    base = raw("STRIPE_API_BASE")
    metering = raw(_PREFIX + "METERING_URL")
    currency = raw(_PREFIX + "CURRENCY").lower()
    if not re.fullmatch(r"[a-z]{3}", currency):
        raise ConfigError(f"{_PREFIX}CURRENCY must be a three-letter code, not {currency!r}")
    return BillingSettings(
        api_key=api_key,
        api_base=_url("STRIPE_API_BASE", base) if base else None,
        webhook_secrets=secrets,
        webhook_tolerance_s=number(_PREFIX + "WEBHOOK_TOLERANCE_S", 1),
        return_url=_url(_PREFIX + "RETURN_URL", raw(_PREFIX + "RETURN_URL")),
        currency=currency,
        reloads_per_month=number(_PREFIX + "RELOADS_PER_MONTH", 0),
        reload_backoff_s=number(_PREFIX + "RELOAD_BACKOFF_S", 1),
        metering_url=_url(_PREFIX + "METERING_URL", metering) if metering else None,
        metering_token=raw(_PREFIX + "METERING_TOKEN") or None,
    )


def _url(name: str, text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http:// or https:// URL, not {text!r}")
    return text.rstrip("/")
