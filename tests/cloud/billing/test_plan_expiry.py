"""A cancelled Pro plan ends at its period end on its own: every serving process sweeps for
lapsed plans, and racing sweeps (several instances) end each plan exactly once."""

from __future__ import annotations

import asyncio
import uuid

from promptready.cloud.billing.service import BillingService
from promptready.cloud.billing.webhook import end_lapsed_plans
from promptready.cloud.clock import FixedClock
from tests.cloud.billing.conftest import Api, billing_env, build
from tests.cloud.billing.test_pro_plan import deliver_all, subscribe
from tests.cloud.conftest import StoreFactory

MONTH_S = 31 * 86_400


async def cancelled_pro(api: Api) -> uuid.UUID:
    """A device on Pro whose subscription was cancelled (it ends at the period end)."""
    device, sub = await subscribe(api)
    await deliver_all(api, api.standin.cancel(sub))
    return device


async def plan(api: Api, device: uuid.UUID) -> str:
    return (await api.billing.store.credits(device)).plan


async def test_the_sweep_leaves_a_plan_whose_period_is_not_over(api: Api) -> None:
    device = await cancelled_pro(api)
    assert await end_lapsed_plans(api.billing) == 0
    assert await plan(api, device) == "pro"


async def test_the_sweep_ends_a_lapsed_plan_once_without_any_request(
    api: Api, clock: FixedClock
) -> None:
    device = await cancelled_pro(api)
    clock.advance(MONTH_S)
    assert await end_lapsed_plans(api.billing) == 1
    assert await plan(api, device) == "free"
    assert await end_lapsed_plans(api.billing) == 0


async def test_two_instances_racing_the_sweep_end_each_plan_exactly_once(
    api: Api, clock: FixedClock, make_store: StoreFactory
) -> None:
    devices = [await cancelled_pro(api) for _ in range(4)]
    other = build(await make_store(clock=clock), clock, billing_env(api.standin.url))
    try:
        clock.advance(MONTH_S)
        ended = await asyncio.gather(
            *(end_lapsed_plans(deps) for deps in (api.billing, other, api.billing, other))
        )
    finally:
        await other.close()
    assert sum(ended) == len(devices)
    assert [await plan(api, d) for d in devices] == ["free"] * len(devices)


async def test_the_serving_process_sweeps_on_its_own(api: Api, clock: FixedClock) -> None:
    device = await cancelled_pro(api)
    service = BillingService(api.billing)
    service.start(sweep_every_s=0.01)
    try:
        clock.advance(MONTH_S)
        for _ in range(1000):  # bounded wait for the next sweep, not a timing check
            if await plan(api, device) == "free":
                break
            await asyncio.sleep(0.01)
    finally:
        await service.close()
    assert await plan(api, device) == "free"
