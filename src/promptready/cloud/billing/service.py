"""Billing inside one serving process, for the app to wire in a few lines: its routes, the
auto-reload check after every settle, the money gauges at scrape time, the metering loop and
the sweep that ends cancelled Pro plans at their period end.

    billing = BillingService.from_env(deps, os.environ)      # None: billing is off
    app.router.routes.extend(billing.routes()); billing.start()
    ... after each settle:  billing.after_settle(device_id, view.balance)
    ... in /metrics, before rendering:  await billing.publish_metrics()
    ... at shutdown:  await billing.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping

from starlette.routing import BaseRoute

from promptready.cloud import logs
from promptready.cloud.billing.autoreload import maybe_reload
from promptready.cloud.billing.deps import BillingDeps, build_billing
from promptready.cloud.billing.metering import Ingest, export_forever
from promptready.cloud.billing.money_report import publish_money
from promptready.cloud.billing.routes import billing_routes
from promptready.cloud.billing.webhook import end_lapsed_plans
from promptready.cloud.routes.deps import Deps

CLOSE_WAIT_S = 10.0
PLAN_SWEEP_S = 30.0


async def sweep_plans_forever(deps: BillingDeps, every_s: float) -> None:
    """End every cancelled Pro plan whose period is over, every ``every_s``, forever. Each
    serving process runs one; ``end_lapsed_plans`` is idempotent across them."""
    while True:
        await asyncio.sleep(every_s)
        try:
            ended = await end_lapsed_plans(deps)
        except Exception as exc:  # the next sweep tries again
            logs.get().error("plan sweep failed", extra=logs.fields(error=type(exc).__name__))
            continue
        if ended:
            logs.get().info("pro plans ended", extra=logs.fields(expired=ended))


class BillingService:
    """Billing's routes and background work in one process."""

    def __init__(self, deps: BillingDeps) -> None:
        self.deps = deps
        self._tasks: set[asyncio.Task[object]] = set()
        self._export: asyncio.Task[None] | None = None
        self._sweep: asyncio.Task[None] | None = None

    @classmethod
    def from_env(cls, app: Deps, env: Mapping[str, str]) -> BillingService | None:
        """Billing for ``app``; None when ``STRIPE_API_KEY`` is unset. A bad value raises the
        ``ConfigError`` naming the variable (the CLI exits 2)."""
        deps = build_billing(app, env)
        return None if deps is None else cls(deps)

    def routes(self) -> list[BaseRoute]:
        """The ``/api/v1/billing/...`` routes."""
        return billing_routes(self.deps)

    def start(self, sweep_every_s: float = PLAN_SWEEP_S) -> None:
        """Start the Pro plan sweep, and the metering export when an ingest URL is configured."""
        if self._sweep is None:
            self._sweep = asyncio.create_task(sweep_plans_forever(self.deps, sweep_every_s))
        settings = self.deps.settings
        if settings.metering_url is not None and self._export is None:
            ingest = Ingest(settings.metering_url, settings.metering_token)
            self._export = asyncio.create_task(
                export_forever(self.deps.store, ingest, self.deps.metrics, self.deps.clock)
            )

    def after_settle(self, device_id: uuid.UUID, balance: int) -> None:
        """Check auto-reload for a wallet a debit just left at ``balance``, off the request's
        path (the answer does not wait for Stripe); a balance above the threshold costs nothing."""
        if not self.deps.card.auto_reload_due(balance):
            return
        task = asyncio.create_task(self._reload(device_id, balance))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reload(self, device_id: uuid.UUID, balance: int) -> None:
        try:
            await maybe_reload(self.deps, device_id, balance)
        except Exception as exc:  # the next crossing tries again; the request already answered
            logs.get().error("auto-reload failed", extra=logs.fields(error=type(exc).__name__))

    @property
    def exporting(self) -> bool:
        """Whether the metering export loop is running."""
        return self._export is not None and not self._export.done()

    async def reloads_done(self, timeout_s: float = CLOSE_WAIT_S) -> None:
        """Wait (bounded) for the auto-reload checks already started."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)

    async def publish_metrics(self) -> None:
        """Set this week's revenue, COGS and margin gauges from the database."""
        await publish_money(self.deps.metrics, self.deps.store, self.deps.card, self.deps.now())

    async def close(self) -> None:
        """Stop the sweep and the export, let running reload checks finish (bounded), close
        Stripe's pool."""
        for task in (self._sweep, self._export):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.reloads_done()
        await self.deps.close()
