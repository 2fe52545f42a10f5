"""What billing needs, built once per process next to the app's own ``Deps``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from promptready.cloud.billing.metrics import BillingMetrics
from promptready.cloud.billing.settings import BillingSettings, load_billing
from promptready.cloud.billing.stripe_api import StripeApi
from promptready.cloud.clock import Clock
from promptready.cloud.routes.deps import Deps
from promptready.cloud.store import Store
from promptready.pricing import RateCard


@dataclass(frozen=True)
class BillingDeps:
    """The app's services (store, tokens, clock, rate card) plus Stripe and billing's settings."""

    app: Deps
    stripe: StripeApi
    settings: BillingSettings
    metrics: BillingMetrics

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def clock(self) -> Clock:
        return self.app.clock

    @property
    def card(self) -> RateCard:
        return self.app.config.rate_card

    async def close(self) -> None:
        """Release Stripe's connection pool."""
        await self.stripe.close()

    def now(self) -> int:
        """The store clock's time in unix seconds (what billing's rows record)."""
        return int(self.app.clock.now().timestamp())


def build_billing(app: Deps, env: Mapping[str, str]) -> BillingDeps | None:
    """Billing for ``app`` from the environment; None when billing is off (no Stripe key).
    Its metrics go on the app's registry."""
    settings = load_billing(env)
    if settings is None:
        return None
    return BillingDeps(
        app=app,
        stripe=StripeApi(settings.api_key, api_base=settings.api_base),
        settings=settings,
        metrics=BillingMetrics(app.metrics.registry),
    )
