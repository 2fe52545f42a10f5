"""Stripe webhook handling, from ONE run on loopback: p50/p99 latency and events/s with 10
concurrent deliveries, against a baseline endpoint on the same server that only reads the body
and answers (the HTTP cost alone), on SQLite and PostgreSQL.

Three cells per database: the baseline, new events (verify the signature, record the event id,
grant a Starter pack in one transaction) and the same events replayed (verify, find the event id,
change nothing). After each run every device must hold exactly the packs of its events.
``bench/cloud_bench.py`` prints this table after its own; run alone with
``PYTHONPATH=src:. .venv/bin/python bench/webhook_bench.py [-n 500]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import stripe
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.cloud.billing.conftest import SECRET, billing_env, build
from tests.cloud.conftest import postgres_database
from tests.cloud.wallets import store_settings

from promptready.cloud.billing.routes import billing_routes
from promptready.cloud.clock import FixedClock
from promptready.cloud.db import migrate
from promptready.cloud.store import Bucket, Store

CONCURRENCY = 10
DEVICES = 20
MAX_SECONDS = 30.0


@dataclass(frozen=True)
class Cell:
    """One measured run."""

    database: str
    kind: str
    p50_ms: float
    p99_ms: float
    events_s: float
    ok: bool | None


def session_event(n: int, device: uuid.UUID) -> dict[str, Any]:
    """A paid Starter Checkout, as ``checkout.session.completed``."""
    session = {
        "id": f"cs_bench_{n:06d}",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "status": "complete",
        "client_reference_id": str(device),
        "metadata": {"device_id": str(device), "pack": "Starter", "kind": "checkout"},
        "amount_total": 500,
        "currency": "usd",
        "customer": f"cus_bench_{device.hex[:8]}",
        "payment_intent": f"pi_bench_{n:06d}",
        "created": int(time.time()),
    }
    return {
        "id": f"evt_bench_{n:06d}",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {"object": session},
    }


def signed(event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET)
    return body, {"stripe-signature": header, "content-type": "application/json"}


async def _baseline(request: Request) -> Response:
    await request.body()
    return Response(b'{"received":true}', media_type="application/json")


@contextlib.contextmanager
def server(url: str, devices: list[uuid.UUID]) -> Iterator[int]:
    """The billing routes and the baseline on a real socket, in a thread with its own loop."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        clock = FixedClock(datetime.now(UTC))
        store = await Store.open(url, store_settings(), clock)
        for device in devices:
            await store.register_device(device, b"\x00" * 32, f"bench-{device}")
        # The webhook path never calls Stripe, so its address is never dialled.
        billing = build(store, clock, billing_env("http://127.0.0.1:9"))
        app.router.routes.extend(billing_routes(billing))
        yield
        await billing.close()
        await store.close()

    app = Starlette(routes=[Route("/baseline", _baseline, methods=["POST"])], lifespan=lifespan)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not runner.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the bench server did not start")
        time.sleep(0.05)
    port = runner.servers[0].sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        runner.should_exit = True
        thread.join(timeout=30)


async def deliver(port: int, path: str, payloads: list[tuple[bytes, dict[str, str]]]) -> Cell:
    """POST every payload with ``CONCURRENCY`` in flight; latency per request and throughput."""
    latencies: list[float] = []
    statuses: list[int] = []
    queue = list(reversed(payloads))
    stop_at = time.monotonic() + MAX_SECONDS

    async def worker(http: httpx.AsyncClient) -> None:
        while queue and time.monotonic() < stop_at:
            body, headers = queue.pop()
            started = time.perf_counter()
            answer = await http.post(path, content=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses.append(answer.status_code)

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as http:
        await http.post(path, content=payloads[0][0], headers=payloads[0][1])  # connect once
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    ok = all(s == 200 for s in statuses)
    return Cell(
        "",
        path,
        statistics.median(latencies),
        latencies[int(len(latencies) * 0.99) - 1],
        len(latencies) / elapsed,
        ok,
    )


async def bench_database(name: str, url: str, n: int) -> list[Cell]:
    devices = [uuid.uuid4() for _ in range(DEVICES)]
    events = [session_event(i, devices[i % DEVICES]) for i in range(n)]
    payloads = [signed(e) for e in events]
    cells: list[Cell] = []
    with server(url, devices) as port:
        base = await deliver(port, "/baseline", payloads)
        cells.append(
            Cell(
                name, "baseline (read body, answer)", base.p50_ms, base.p99_ms, base.events_s, None
            )
        )
        for kind in ("new events", "replayed events"):
            found = await deliver(port, "/api/v1/billing/webhook", payloads)
            cells.append(Cell(name, kind, found.p50_ms, found.p99_ms, found.events_s, found.ok))
        # The first delivery of payloads[0] (connect once) was applied too: n events, n packs.
        check = await Store.open(url, store_settings())
        try:
            held = [(await check.credits(d)).buckets[Bucket.PURCHASED] for d in devices]
        finally:
            await check.close()
        last = cells[-1]
        exact = sum(held) == 250 * n
        cells[-1] = Cell(
            name, last.kind, last.p50_ms, last.p99_ms, last.events_s, bool(last.ok and exact)
        )
    return cells


def table(cells: list[Cell]) -> str:
    """Markdown rows with ratios against the same database's baseline."""
    rows = [
        "| database | cell | p50 ms | p99 ms | events/s | p50 vs baseline | events/s vs baseline | ok |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cell in cells:
        base = next(c for c in cells if c.database == cell.database and c.ok is None)
        ok = "-" if cell.ok is None else ("yes" if cell.ok else "NO")
        rows.append(
            f"| {cell.database} | {cell.kind} | {cell.p50_ms:.2f} | {cell.p99_ms:.2f} | "
            f"{cell.events_s:.0f} | {cell.p50_ms / base.p50_ms:.2f}x | "
            f"{cell.events_s / base.events_s:.2f}x | {ok} |"
        )
    return "\n".join(rows)


def run(n: int) -> list[Cell]:
    """Every cell on SQLite, then PostgreSQL (skipped when no server answers)."""
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory(prefix="pr-webhook-bench-") as home:
        url = f"sqlite:///{Path(home) / 'cloud.sqlite3'}"
        migrate(url)
        cells += asyncio.run(bench_database("SQLite", url, n))
    try:
        with postgres_database() as url:
            migrate(url)
            cells += asyncio.run(bench_database("PostgreSQL", url, n))
    except pytest.skip.Exception:  # no PostgreSQL server here: report SQLite alone
        print("PostgreSQL skipped: no server at 127.0.0.1:5432", file=sys.stderr)
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=500, help="events per cell (default 500)")
    args = parser.parse_args()
    print(table(run(args.n)))


if __name__ == "__main__":
    main()
