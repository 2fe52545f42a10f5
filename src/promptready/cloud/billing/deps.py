"""What billing needs, built once per process next to the app's own ``Deps``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from promptready.cloud.billing.metrics import BillingMetrics
from promptready.cloud.billing.settings import BillingSettings, load_billing
from promptready.cloud.billing.stripe_api import StripeApi
from promptready.cloud.clock import Clock
from promptready.cloud.routes.deps import Deps
from promptready.cloud.store import Store
from promptready.pricing import RateCard


class Throttle:
    """Lets a periodic chore run at most once per ``every_s`` in this process."""

    def __init__(self, every_s: int) -> None:
        self.every_s = every_s
        self._last: int | None = None

    def due(self, now: int) -> bool:
        """Whether the chore should run now (and, if so, that it ran)."""
        if self._last is not None and now - self._last < self.every_s:
            return False
        self._last = now
        return True


@dataclass(frozen=True)
class BillingDeps:
    """The app's services (store, tokens, clock, rate card) plus Stripe and billing's settings."""

    app: Deps
    stripe: StripeApi
    settings: BillingSettings
    metrics: BillingMetrics
    # Ending lapsed Pro plans is checked by webhooks at most once a minute per process.
    plan_sweep: Throttle = field(default_factory=lambda: Throttle(60))

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
