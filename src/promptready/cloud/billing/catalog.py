"""What billing sells, read from the rate card (``promptready.pricing``): packs by name, the Pro
plan, and their prices in Stripe's minor units. Pure."""

from __future__ import annotations

from decimal import Decimal

from promptready.cloud.billing.stripe_api import PackPrice
from promptready.pricing import CreditPack, Plan, RateCard

PRO = "pro"
RELOAD_PACK = "Starter"


class UnknownPackError(ValueError):
    """A pack name the rate card does not sell."""

    def __init__(self, name: str, card: RateCard) -> None:
        names = ", ".join(p.name for p in card.packs)
        super().__init__(f"There is no pack called {name!r}; choose one of {names}.")


def find_pack(card: RateCard, name: str) -> CreditPack:
    """The pack called ``name``, whatever its case (``starter`` is Starter)."""
    wanted = name.strip().casefold()
    for pack in card.packs:
        if pack.name.casefold() == wanted:
            return pack
    raise UnknownPackError(name, card)


def pro_plan(card: RateCard) -> Plan:
    """The Pro plan of the rate card."""
    return card.plans[PRO]


def minor_units(usd: Decimal) -> int:
    """Whole cents for a USD price; a price with fractions of a cent is a rate-card error."""
    cents = usd * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{usd} USD is not a whole number of cents")
    return int(cents)


def pack_price(pack: CreditPack, currency: str) -> PackPrice:
    """What Checkout charges for ``pack``."""
    return PackPrice(pack.name, minor_units(pack.price_usd), currency)


def plan_price(plan: Plan, currency: str) -> PackPrice:
    """What the Pro subscription charges each month."""
    return PackPrice(plan.name.capitalize(), minor_units(plan.price_usd_month), currency)


def rollover_cap(plan: Plan) -> int:
    """The most subscription credits a wallet may hold: ``rollover_months`` months' worth
    (at least one month's, for a plan that does not roll over)."""
    return plan.credits_month * max(1, plan.rollover_months)
