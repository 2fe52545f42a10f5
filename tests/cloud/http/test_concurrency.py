"""Races over real HTTP: one wallet, one weekly cap and one device rate limit, shared by parallel
requests on one instance and on two ``promptready-cloud serve`` processes on one database."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal

import httpx
import pytest

from promptready.cloud.store import Store
from tests.cloud.http.conftest import (
    Cloud,
    Device,
    ServerProcess,
    StartCloud,
    cloud_env,
    give,
    register,
    start_servers,
)
from tests.cloud.wallets import store_settings
from tests.fakes.upstream import FakeUpstream, Script

PARALLEL = 200
CREDITS = 50
# For the cap tests each answer costs about as much as its hold ($2.01 of $2.53 at this price):
# the weekly counter is split over 16 rows of $5 each, so about 40 requests fit under $80.
DEAR_PRICE = "gpt-4o-mini=1000/1000"
CAP = Decimal(80)


def long_answers(upstream: FakeUpstream) -> None:
    upstream.script(*[Script(content=" ".join(["word"] * 2000))] * PARALLEL)


def _client(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url, timeout=60, limits=httpx.Limits(max_connections=PARALLEL)
    )


async def enhance_in_parallel(urls: Sequence[str], devices: Sequence[Device]) -> Counter[int]:
    """PARALLEL enhance requests at once, spread over ``urls`` and ``devices``; status counts."""
    clients = [_client(url) for url in urls]
    try:

        async def one(i: int) -> int:
            device = devices[i % len(devices)]
            client = clients[i % len(clients)]
            response = await client.post(
                "/api/v1/enhance", headers=device.auth, json={"content": f"request {i} please"}
            )
            return response.status_code

        return Counter(await asyncio.gather(*(one(i) for i in range(PARALLEL))))
    finally:
        for client in clients:
            await client.aclose()


async def test_parallel_enhances_spend_exactly_the_wallet(cloud: Cloud, store: Store) -> None:
    async with cloud.client() as client:
        device = await register(client)
    await give(store, device, CREDITS)
    statuses = await enhance_in_parallel([cloud.url], [device])
    assert statuses == {200: CREDITS, 402: PARALLEL - CREDITS}
    view = await store.credits(device.id)
    assert (view.balance, view.reserved) == (0, 0)


async def test_parallel_requests_never_exceed_the_weekly_cap(
    start_cloud: StartCloud, store: Store, upstream: FakeUpstream
) -> None:
    cloud = start_cloud(PRICES=DEAR_PRICE)
    long_answers(upstream)
    await store.set_weekly_cap(CAP)
    async with cloud.client() as client:
        devices = [await register(client) for _ in range(4)]
    for device in devices:
        await give(store, device, 100)
    statuses = await enhance_in_parallel([cloud.url], devices)
    week = await store.weekly_spend()
    assert statuses[200] >= 1 and statuses[503] >= 1
    assert set(statuses) == {200, 503}
    assert week.committed_usd + week.reserved_usd <= week.cap_usd
    assert week.reserved_usd == 0
    assert await spent(store, devices, 100) == statuses[200]


async def spent(store: Store, devices: Sequence[Device], given: int) -> int:
    """Credits the devices spent from ``given`` each; fails on a hold left open."""
    total = 0
    for device in devices:
        view = await store.credits(device.id)
        assert view.reserved == 0
        total += given - view.balance
    return total


@pytest.fixture
async def shared_postgres(migrated_postgres_url: str) -> AsyncIterator[tuple[str, Store]]:
    """A migrated PostgreSQL database and a store on it (the test's own instance)."""
    store = await Store.open(migrated_postgres_url, store_settings())
    yield migrated_postgres_url, store
    problems = await store.check_invariants()
    await store.close()
    assert problems == []


def two_servers(
    url: str, upstream: FakeUpstream, started: list[ServerProcess], **env: str
) -> list[str]:
    servers = start_servers([cloud_env(url, upstream.base_url, **env)] * 2)
    started.extend(servers)
    return [server.url for server in servers]


@pytest.mark.slow
async def test_two_server_processes_spend_exactly_one_wallet(
    shared_postgres: tuple[str, Store],
    upstream: FakeUpstream,
    serve_processes: list[ServerProcess],
) -> None:
    url, store = shared_postgres
    urls = two_servers(url, upstream, serve_processes)
    async with _client(urls[0]) as client:
        device = await register(client)
    await give(store, device, CREDITS)
    statuses = await enhance_in_parallel(urls, [device])
    assert statuses == {200: CREDITS, 402: PARALLEL - CREDITS}
    view = await store.credits(device.id)
    assert (view.balance, view.reserved) == (0, 0)


@pytest.mark.slow
async def test_two_server_processes_share_the_weekly_cap(
    shared_postgres: tuple[str, Store],
    upstream: FakeUpstream,
    serve_processes: list[ServerProcess],
) -> None:
    url, store = shared_postgres
    urls = two_servers(url, upstream, serve_processes, PRICES=DEAR_PRICE)
    long_answers(upstream)
    await store.set_weekly_cap(CAP)
    async with _client(urls[0]) as client:
        devices = [await register(client) for _ in range(4)]
    for device in devices:
        await give(store, device, 100)
    statuses = await enhance_in_parallel(urls, devices)
    week = await store.weekly_spend()
    assert statuses[200] >= 1 and statuses[503] >= 1
    assert week.committed_usd + week.reserved_usd <= week.cap_usd
    assert await spent(store, devices, 100) == statuses[200]


@pytest.mark.slow
async def test_two_server_processes_share_the_device_rate_limit(
    shared_postgres: tuple[str, Store],
    upstream: FakeUpstream,
    serve_processes: list[ServerProcess],
) -> None:
    url, store = shared_postgres
    rps = 2
    urls = two_servers(url, upstream, serve_processes, DEVICE_RPS=str(rps))
    async with _client(urls[0]) as client:
        device = await register(client)
    await give(store, device, PARALLEL)
    started = time.monotonic()
    statuses = await enhance_in_parallel(urls, [device])
    elapsed = time.monotonic() - started
    assert set(statuses) == {200, 429}
    assert 1 <= statuses[200] <= 1 + int(elapsed * rps) + 1
    assert (await store.credits(device.id)).balance == PARALLEL - statuses[200]
