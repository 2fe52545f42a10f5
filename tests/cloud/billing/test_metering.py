"""Metering export: usage events reach an OpenMeter-compatible ingest as CloudEvents, exactly
once, even when the ingest is down for a while; device ids never leave the proxy."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from promptready.cloud.billing.metering import (
    CONTENT_TYPE,
    Ingest,
    backoff_s,
    fill_outbox,
    send_due,
)
from promptready.cloud.billing.metrics import BillingMetrics
from promptready.cloud.clock import FixedClock
from tests.cloud.billing.conftest import Api
from tests.cloud.billing.scenario import spend

MAX_WAIT = 301  # past the longest backoff


class FakeIngest:
    """An ingest endpoint on loopback that can be taken down (503) and records what it got."""

    def __init__(self) -> None:
        self.down = False
        self.received: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        ingest = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if ingest.down:
                    self.send_response(503)
                else:
                    ingest.received += json.loads(body)
                    ingest.content_types.append(self.headers["content-type"])
                    self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/events"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ingest() -> Iterator[FakeIngest]:
    server = FakeIngest()
    yield server
    server.close()


@pytest.fixture
def metrics() -> BillingMetrics:
    return BillingMetrics(CollectorRegistry())


def errors(metrics: BillingMetrics) -> float:
    return metrics.registry.get_sample_value("promptready_cloud_metering_ingest_errors_total") or 0


async def use(api: Api, times: int) -> uuid.UUID:
    device = await api.device()
    await api.billing.store.credits(device)
    for _ in range(times):
        await spend(api, device, 1, Decimal("0.000100"), "gpt-oss-20b")
    return device


async def drain(api: Api, http: httpx.AsyncClient, target: Ingest, metrics: BillingMetrics) -> int:
    now = api.billing.now()
    await fill_outbox(api.billing.store, now)
    sent = 0
    while batch := await send_due(api.billing.store, http, target, metrics, now):
        sent += batch
    return sent


async def test_an_outage_loses_nothing_and_sends_nothing_twice(
    api: Api, ingest: FakeIngest, metrics: BillingMetrics, clock: FixedClock
) -> None:
    await use(api, 25)
    target = Ingest(ingest.url, "meter-token")
    ingest.down = True
    async with httpx.AsyncClient() as http:
        for _ in range(3):
            assert await drain(api, http, target, metrics) == 0
            clock.advance(61)
        assert errors(metrics) == 3
        await use(api, 5)  # more usage during the outage
        ingest.down = False
        clock.advance(MAX_WAIT)
        assert await drain(api, http, target, metrics) == 30
        clock.advance(MAX_WAIT)
        assert await drain(api, http, target, metrics) == 0
    ids = [e["id"] for e in ingest.received]
    assert len(ids) == 30
    assert len(set(ids)) == 30
    assert ingest.content_types == [CONTENT_TYPE]


async def test_events_are_cloud_events_without_the_device_id(
    api: Api, ingest: FakeIngest, metrics: BillingMetrics
) -> None:
    device = await use(api, 1)
    async with httpx.AsyncClient() as http:
        await drain(api, http, Ingest(ingest.url, None), metrics)
    [event] = ingest.received
    assert event["specversion"] == "1.0"
    assert event["type"] == "promptready.usage"
    assert event["source"] == "promptready-cloud"
    assert event["time"].endswith("Z")
    assert event["data"]["credits"] == 1
    assert event["data"]["cost_usd"] == "0.000100"
    assert str(device) not in json.dumps(event)
    assert len(event["subject"]) == 64


async def test_an_ingest_that_refuses_connections_counts_errors(
    api: Api, metrics: BillingMetrics
) -> None:
    await use(api, 2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/events"
    async with httpx.AsyncClient() as http:
        assert await drain(api, http, Ingest(closed, None), metrics) == 0
    assert errors(metrics) == 1


def test_retries_back_off_by_doubling_up_to_five_minutes() -> None:
    assert [backoff_s(n) for n in (1, 2, 3, 8, 9, 20)] == [2, 4, 8, 256, 300, 300]
