"""The gateway built from the user's settings meters with the same prices the engine uses."""

from __future__ import annotations

from decimal import Decimal

from promptready.engine import Engine
from promptready.gateway.assemble import build_gateway
from promptready.pricing import ModelPrice
from promptready.settings import PricingSettings, Settings


def test_budgets_are_priced_with_the_users_own_prices() -> None:
    mine = ModelPrice(input=Decimal("123"), output=Decimal("456"))
    settings = Settings(pricing=PricingSettings(models={"openai/gpt-4o": mine}))
    gateway = build_gateway(Engine(settings))
    try:
        assert gateway.meter is not None
        assert gateway.meter.card.price("openai/gpt-4o") == mine
    finally:
        if gateway.meter is not None:
            gateway.meter.close()
        for release in gateway.on_shutdown:
            release()
