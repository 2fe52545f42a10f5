"""Billing fixtures: the Stripe stand-in on loopback, a store on each dialect (cloud-store's
``make_store``), billing's services wired to both, and an HTTP client for billing's routes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from promptready.cloud.auth import TokenService
from promptready.cloud.billing.deps import BillingDeps, build_billing
from promptready.cloud.billing.routes import billing_routes
from promptready.cloud.clock import FixedClock
from promptready.cloud.cohorts import assign_cohort
from promptready.cloud.config import load
from promptready.cloud.metrics import Metrics
from promptready.cloud.routes.costs import Pricer
from promptready.cloud.routes.deps import Deps
from promptready.cloud.store import Store
from promptready.cloud.upstream import Upstream
from tests.cloud.billing.stripe_standin import StripeStandin
from tests.cloud.conftest import StoreFactory

SECRET = "whsec_test_current_secret"
OLD_SECRET = "whsec_test_previous_secret"
JWT_SECRET = "billing-tests-jwt-secret-of-at-least-32-bytes"


@pytest.fixture
def standin() -> Iterator[StripeStandin]:
    """A fresh Stripe stand-in for this test."""
    with StripeStandin() as server:
        yield server


@pytest.fixture
def clock() -> FixedClock:
    """The store's clock, at the wall clock's time (webhooks are signed with the wall clock)."""
    return FixedClock(datetime.now(UTC))


def billing_env(stripe_url: str, **extra: str) -> dict[str, str]:
    """The environment of a proxy with billing on, its Stripe at ``stripe_url`` (the stand-in)."""
    return {
        "PROMPTREADY_CLOUD_JWT_SECRET": JWT_SECRET,
        "PROMPTREADY_CLOUD_UPSTREAM_BASE_URL": "http://127.0.0.1:9/v1",
        "STRIPE_API_KEY": "sk_test_standin",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": stripe_url,
        **extra,
    }


def build(store: Store, clock: FixedClock, env: dict[str, str]) -> BillingDeps:
    """Billing's services on ``store``, the way the app builds them."""
    config = load(env)
    keys = config.require_serving()
    app = Deps(
        config=config,
        store=store,
        tokens=TokenService(keys),
        upstream=Upstream(),
        metrics=Metrics(),
        pricer=Pricer(config.rate_card, [c.model for c in config.cohorts]),
        clock=clock,
    )
    billing = build_billing(app, env)
    assert billing is not None
    return billing


@pytest.fixture
async def store(make_store: StoreFactory, clock: FixedClock) -> Store:
    """One store (one instance) on a fresh database of each dialect."""
    return await make_store(clock=clock)


@pytest.fixture
async def billing(
    store: Store, clock: FixedClock, standin: StripeStandin
) -> AsyncIterator[BillingDeps]:
    """Billing wired to the store and the stand-in."""
    billing = build(store, clock, billing_env(standin.url))
    yield billing
    await billing.close()


@dataclass
class Api:
    """Billing's routes over HTTP, with helpers to register devices and deliver webhooks."""

    http: httpx.AsyncClient
    billing: BillingDeps
    standin: StripeStandin

    async def device(self, cohort: str | None = None) -> uuid.UUID:
        """A newly registered device (in ``cohort`` when given)."""
        device_id = uuid.uuid4()
        while cohort and assign_cohort(device_id, self.billing.app.config.cohorts).name != cohort:
            device_id = uuid.uuid4()
        await self.billing.store.register_device(device_id, b"\x00" * 32, f"test-{device_id}")
        return device_id

    def auth(self, device_id: uuid.UUID) -> dict[str, str]:
        return {"authorization": f"Bearer {self.billing.app.tokens.issue(device_id)}"}

    async def post(self, device_id: uuid.UUID, path: str, body: Any = None) -> httpx.Response:
        return await self.http.post(path, json=body or {}, headers=self.auth(device_id))

    async def get(self, device_id: uuid.UUID, path: str) -> httpx.Response:
        return await self.http.get(path, headers=self.auth(device_id))

    async def deliver(
        self, event: dict[str, Any], *, secret: str = SECRET, timestamp: int | None = None
    ) -> httpx.Response:
        """POST ``event`` to the webhook, signed like Stripe does."""
        body, headers = self.standin.signed(event, secret, timestamp=timestamp)
        return await self.http.post("/api/v1/billing/webhook", content=body, headers=headers)

    async def buy(self, device_id: uuid.UUID, pack: str) -> str:
        """Start a Checkout for ``pack``; its session id."""
        answer = await self.post(device_id, "/api/v1/billing/checkout", {"pack": pack})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["session_id"])

    async def balance(self, device_id: uuid.UUID) -> int:
        return (await self.billing.store.credits(device_id)).balance


def app_for(billing: BillingDeps) -> Starlette:
    """An app serving billing's routes alone."""
    return Starlette(routes=billing_routes(billing))


@pytest.fixture
async def api(billing: BillingDeps, standin: StripeStandin) -> AsyncIterator[Api]:
    """Billing's routes on an in-process HTTP client."""
    transport = httpx.ASGITransport(app=app_for(billing))
    async with httpx.AsyncClient(transport=transport, base_url="http://billing.test") as http:
        yield Api(http, billing, standin)


def with_settings(billing: BillingDeps, **changes: Any) -> BillingDeps:
    """``billing`` with other settings (e.g. another webhook secret list)."""
    return replace(billing, settings=replace(billing.settings, **changes))
