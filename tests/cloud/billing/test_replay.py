"""Stripe delivers at least once and in no order: every webhook of a scripted history delivered
ten times, concurrently and shuffled (with two instances on PostgreSQL), leaves the same
balances as delivering each once in order."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from promptready.cloud.billing import tables
from promptready.cloud.clock import FixedClock
from promptready.cloud.store import Store
from tests.cloud.billing.conftest import Api, app_for, billing_env, build
from tests.cloud.billing.scenario import Event, scripted_history
from tests.cloud.billing.stripe_standin import StripeStandin
from tests.cloud.conftest import postgres_database
from tests.cloud.databases import Templates
from tests.cloud.wallets import store_settings

COPIES = 10
CONCURRENCY = 10


@pytest.fixture
def spare_urls(migrated_url: str, tmp_path: Path, db_templates: Templates) -> Iterator[list[str]]:
    """Two more empty, migrated databases of the dialect under test."""
    with contextlib.ExitStack() as stack:
        if migrated_url.startswith("sqlite"):
            urls = [db_templates.sqlite(tmp_path / f"spare{i}.sqlite3") for i in range(2)]
        else:
            urls = [stack.enter_context(postgres_database(db_templates)) for _ in range(2)]
        yield urls


@contextlib.asynccontextmanager
async def replica(
    url: str, devices: list[uuid.UUID], clock: FixedClock, standin: StripeStandin, instances: int
) -> AsyncIterator[list[Api]]:
    """``instances`` proxies on ``url`` that know ``devices``."""
    stores = [await Store.open(url, store_settings(), clock) for _ in range(instances)]
    apis: list[Api] = []
    try:
        for device in devices:
            await stores[0].register_device(device, b"\x00" * 32, f"replica-{device}")
        async with contextlib.AsyncExitStack() as stack:
            for store in stores:
                billing = build(store, clock, billing_env(standin.url))
                stack.push_async_callback(billing.close)
                http = await stack.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app_for(billing)),
                        base_url="http://replica.test",
                    )
                )
                apis.append(Api(http, billing, standin))
            yield apis
    finally:
        for store in stores:
            assert await store.check_invariants() == []
            await store.close()


async def snapshot(store: Store, devices: list[uuid.UUID]) -> dict[str, Any]:
    """Everything a replay could change: wallets and billing's rows."""
    wallets = {}
    for device in devices:
        view = await store.credits(device)
        wallets[str(device)] = (view.balance, dict(view.buckets), view.frozen, view.plan)
    async with store.transaction() as conn:
        rows = {
            t.name: await conn.scalar(select(func.count()).select_from(t))
            for t in (tables.payments, tables.clawbacks, tables.reviews)
        }
    return {"wallets": wallets, "rows": rows}


async def deliver_until_applied(apis: list[Api], events: list[Event]) -> None:
    """Deliver every event, retrying refusals as Stripe does (a refund before its purchase)."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(index: int, event: Event) -> bool:
        async with gate:
            answer = await apis[index % len(apis)].deliver(event)
        assert answer.status_code in (200, 409), answer.text
        return answer.status_code == 200

    pending = events
    for _ in range(COPIES * 4):
        done = await asyncio.gather(*(one(i, e) for i, e in enumerate(pending)))
        pending = [e for e, ok in zip(pending, done, strict=True) if not ok]
        if not pending:
            return
    raise AssertionError(f"{len(pending)} deliveries never applied")


async def test_every_webhook_ten_times_concurrently_and_shuffled_changes_nothing_more(
    api: Api, spare_urls: list[str], clock: FixedClock
) -> None:
    history = await scripted_history(api)
    once_url, replayed_url = spare_urls
    instances = 1 if once_url.startswith("sqlite") else 2
    async with replica(once_url, history.devices, clock, api.standin, 1) as [once]:
        for event in history.events:
            assert (await once.deliver(event)).status_code == 200
        expected = await snapshot(once.billing.store, history.devices)
    shuffled = [e for e in history.events for _ in range(COPIES)]
    random.Random(11).shuffle(shuffled)
    async with replica(replayed_url, history.devices, clock, api.standin, instances) as apis:
        await deliver_until_applied(apis, shuffled)
        assert await snapshot(apis[0].billing.store, history.devices) == expected
    assert expected["rows"] == {
        "billing_payments": 10,
        "billing_clawbacks": 3,
        "billing_reviews": 0,
    }
