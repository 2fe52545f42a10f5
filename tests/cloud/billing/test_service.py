"""The service the app wires in: auto-reload after a settle off the request path, the money
gauges, the metering loop started and stopped with it."""

from __future__ import annotations

from promptready.cloud.billing.service import BillingService
from promptready.cloud.clock import FixedClock
from promptready.cloud.store import Store
from tests.cloud.billing.conftest import Api, billing_env, build
from tests.cloud.billing.test_autoreload import customer_with_card, off_session_charges


async def test_after_settle_below_the_threshold_charges_once_in_the_background(api: Api) -> None:
    device, _ = await customer_with_card(api)
    service = BillingService(api.billing)
    for _ in range(5):
        service.after_settle(device, 12)
    service.after_settle(device, 400)  # above the threshold: nothing scheduled
    await service.reloads_done()
    assert len(off_session_charges(api)) == 1


async def test_publish_metrics_sets_the_money_gauges(api: Api) -> None:
    await BillingService(api.billing).publish_metrics()
    sample = api.billing.metrics.registry.get_sample_value
    assert sample("promptready_cloud_gross_margin_ratio") == 1.0
    assert sample("promptready_cloud_revenue_week_usd") == 0.0


async def test_the_metering_loop_starts_only_when_configured_and_stops_on_close(
    store: Store, clock: FixedClock, api: Api
) -> None:
    off = BillingService(build(store, clock, billing_env(api.standin.url)))
    off.start()
    assert not off.exporting
    await off.close()
    env = billing_env(
        api.standin.url, PROMPTREADY_CLOUD_BILLING_METERING_URL="http://127.0.0.1:9/x"
    )
    on = BillingService(build(store, clock, env))
    on.start()
    assert on.exporting
    await on.close()
    assert not on.exporting


async def test_billing_is_off_without_a_stripe_key(api: Api) -> None:
    assert BillingService.from_env(api.billing.app, {}) is None
