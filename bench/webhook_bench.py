"""Stripe webhook handling in ``promptready-cloud serve``, from ONE run on loopback: p50/p99 and
events/s with 10 concurrent deliveries, on SQLite and on PostgreSQL.

Three cells per database, the same N signed ``checkout.session.completed`` events each time:
- baseline: signed with another secret, so refused after the signature check (HTTP, body,
  HMAC; no database): what every webhook costs before billing's work;
- new events: verified, the event id recorded and a Starter pack granted in one transaction;
- replayed: verified, the event id found, nothing changed.
After the run every device must hold exactly the packs of its events (checked through a store of
our own on the same database). ``bench/cloud_bench.py`` prints this table after its own; alone:
``PYTHONPATH=src .venv/bin/python bench/webhook_bench.py [-n 500]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import stripe

from cloud_bench import JWT_SECRET, postgres_database, proxy, register
from promptready.cloud.config import PREFIX
from promptready.cloud.config import load as load_config
from promptready.cloud.store import Bucket, Store

CONCURRENCY = 10
DEVICES = 20
MAX_SECONDS = 30.0
SECRET = "whsec_bench_webhook_secret"
STARTER = 250


@dataclass(frozen=True)
class Cell:
    """One measured run; ``ok`` None for the baseline."""

    database: str
    kind: str
    p50_ms: float
    p99_ms: float
    events_s: float
    ok: bool | None


def session_event(n: int, device: uuid.UUID) -> dict[str, Any]:
    """A paid Starter Checkout, as Stripe reports it."""
    now = int(time.time())
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
        "customer": f"cus_bench_{device.hex[:12]}",
        "payment_intent": f"pi_bench_{n:06d}",
        "created": now,
    }
    event = {"id": f"evt_bench_{n:06d}", "object": "event", "created": now}
    return {**event, "type": "checkout.session.completed", "data": {"object": session}}


def signed(event: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret)
    return body, {"stripe-signature": header, "content-type": "application/json"}


async def deliver(url: str, payloads: list[tuple[bytes, dict[str, str]]], status: int) -> Cell:
    """POST every payload, ``CONCURRENCY`` in flight; ok when every answer had ``status``."""
    latencies: list[float] = []
    answers: list[int] = []
    queue = list(reversed(payloads))
    stop_at = time.monotonic() + MAX_SECONDS

    async def worker(http: httpx.AsyncClient) -> None:
        while queue and time.monotonic() < stop_at:
            body, headers = queue.pop()
            started = time.perf_counter()
            answer = await http.post("/api/v1/billing/webhook", content=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            answers.append(answer.status_code)

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    ok = len(answers) == len(payloads) and all(a == status for a in answers)
    return Cell("", "", statistics.median(latencies), p99, len(latencies) / elapsed, ok)


async def bench_database(name: str, env: dict[str, str], n: int) -> list[Cell]:
    config = load_config({**os.environ, **env})
    cells: list[Cell] = []
    with proxy(env, 1) as (url, _pid):
        devices = [(await register(url))[0] for _ in range(DEVICES)]
        events = [session_event(i, devices[i % DEVICES]) for i in range(n)]
        wrong = await deliver(url, [signed(e, "whsec_not_ours") for e in events], 400)
        cells.append(Cell(name, "baseline (refused signature)", *_timing(wrong), None))
        payloads = [signed(e, SECRET) for e in events]
        for kind in ("new events", "replayed events"):
            found = await deliver(url, payloads, 200)
            cells.append(Cell(name, kind, *_timing(found), found.ok))
    store = await Store.open(config.database_url, config.store_settings())
    try:
        held = sum([(await store.credits(d)).buckets[Bucket.PURCHASED] for d in devices])
        exact = held == STARTER * n and not await store.check_invariants()
    finally:
        await store.close()
    last = cells[-1]
    cells[-1] = Cell(
        name, last.kind, last.p50_ms, last.p99_ms, last.events_s, bool(last.ok and exact)
    )
    return cells


def _timing(cell: Cell) -> tuple[float, float, float]:
    return cell.p50_ms, cell.p99_ms, cell.events_s


def table(cells: list[Cell]) -> str:
    """Markdown rows with ratios against the same database's baseline."""
    rows = [
        "| webhooks, c=10 | cell | p50 ms | p99 ms | events/s | p50 vs baseline "
        "| events/s vs baseline | exact |",
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


async def run(n: int) -> list[Cell]:
    """Every cell on SQLite, then on PostgreSQL."""
    with tempfile.TemporaryDirectory(prefix="pr-webhook-bench-") as home:
        env = {
            **os.environ,
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src"),
            "PROMPTREADY_HOME": home,
            PREFIX + "JWT_SECRET": JWT_SECRET,
            PREFIX + "UPSTREAM_BASE_URL": "http://127.0.0.1:9/v1",
            PREFIX + "REGISTRATIONS_PER_HOUR": "0",
            "STRIPE_API_KEY": "sk_test_bench",
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "STRIPE_API_BASE": "http://127.0.0.1:9",  # the webhook path never calls Stripe
        }
        sqlite = {**env, PREFIX + "DATABASE_URL": f"sqlite:///{Path(home) / 'cloud.sqlite3'}"}
        cells = await bench_database("SQLite", sqlite, n)
        with postgres_database() as url:
            cells += await bench_database("PostgreSQL", {**env, PREFIX + "DATABASE_URL": url}, n)
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=500, help="events per cell (default 500)")
    args = parser.parse_args()
    print(table(asyncio.run(run(args.n))))


if __name__ == "__main__":
    main()
