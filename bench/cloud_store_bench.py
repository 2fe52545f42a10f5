"""The store's hot path: admit + settle pairs per second and p50 latency, per PostgreSQL driver
(asyncpg, psycopg 3 async) and SQLite, at c=1 and c=32, against a bare ``SELECT 1`` round trip
through the same engine measured in the same run, with the CPU each pair costs here (this
process: the store's Python side) and in PostgreSQL (the database's backends, from /proc).

    PYTHONPATH=src python bench/cloud_store_bench.py [--seconds 3] [--postgres URL] [--only asyncpg]

Run it with ``PYTHONPATH`` at another checkout's ``src`` for a before/after in the same minute.

Creates and drops its own PostgreSQL database; 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from promptready.cloud.db import Driver, migrate, parse_database_url
from promptready.cloud.store import Admission, Bucket, LedgerKind, Store, StoreSettings, UsageRecord

SETTINGS = StoreSettings(
    weekly_cap_usd=Decimal(1_000_000),
    usage_key=b"bench-usage-key-bench-usage-key!",
    device_rps=0,
    registrations_per_hour=0,
)
USAGE = UsageRecord(120, 40, "gpt-oss-20b", "A", Decimal("0.000020"), 1, 3, "ok")


_HZ = os.sysconf("SC_CLK_TCK")


def _cpu_s(pids: list[int]) -> float:
    """user+system CPU seconds of ``pids`` (those still alive)."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / _HZ


async def _backends(store: Store) -> list[int]:
    """The PostgreSQL backends serving this database (none on SQLite)."""
    if not str(store._engine.url).startswith("postgresql"):
        return []
    async with store._engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        )
        return [int(pid) for (pid,) in rows]


async def _timed(
    op: Callable[[], Awaitable[None]], concurrency: int, seconds: float
) -> tuple[float, float]:
    """(operations per second, p50 ms) of ``op`` run by ``concurrency`` workers for ``seconds``."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            await op()
            latencies.append(time.perf_counter() - start)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, statistics.median(latencies) * 1000


async def _admin(server: str, sql: str) -> None:
    engine = create_async_engine(
        parse_database_url(f"{server}/postgres").url, isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


async def _scenario(label: str, url: str, seconds: float) -> None:
    store = await Store.open(url, SETTINGS)
    devices = []
    for _ in range(32):
        device_id = uuid.uuid4()
        await store.register_device(device_id, b"h", "127.0.0.1")
        await store.grant(
            device_id,
            10_000_000,
            bucket=Bucket.PURCHASED,
            kind=LedgerKind.PURCHASE,
            idem_key=f"bench:{device_id}",
            reason="bench",
        )
        await store.credits(device_id)  # the month's free top-up: not part of the hot path
        devices.append(device_id)
    engine = store._engine  # the same pool the store uses
    turn = iter(range(10**12))

    async def select_one() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def pair() -> None:
        device_id = devices[next(turn) % len(devices)]
        admission = await store.admit(
            device_id, credits=1, cost_usd=Decimal("0.00002"), idempotency_key=None
        )
        assert isinstance(admission, Admission)
        await store.settle(admission.hold_id, USAGE)

    for _ in range(64):  # warm: pools filled, statements prepared on each connection
        await pair()
    for concurrency in (1, 32):
        base_rate, base_p50 = await _timed(select_one, concurrency, seconds / 2)
        backends = await _backends(store)
        here, there = time.process_time(), _cpu_s(backends)
        rate, p50 = await _timed(pair, concurrency, seconds)
        pairs = rate * seconds
        here = (time.process_time() - here) * 1000 / pairs
        # Backends a pool opened during the run (the hot pool grows on demand) started at ~0.
        backends = sorted(set(backends) | set(await _backends(store)))
        there = (_cpu_s(backends) - there) * 1000 / pairs
        print(
            f"{label:<18} c={concurrency:<3} admit+settle {rate:8.0f} pairs/s  p50 {p50:6.2f} ms"
            f"  | SELECT 1 {base_rate:8.0f}/s p50 {base_p50:5.2f} ms"
            f"  | pair = {p50 / base_p50:4.1f}x SELECT 1"
            f"  | CPU ms/pair: store {here:.3f}, postgres {there:.3f}"
        )
    problems = await store.check_invariants()
    await store.close()
    assert problems == [], problems


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--only", choices=["asyncpg", "psycopg", "sqlite"], action="append", help="repeatable"
    )
    args = parser.parse_args()
    only = set(args.only or ["asyncpg", "psycopg", "sqlite"])
    for driver in (d for d in (Driver.ASYNCPG, Driver.PSYCOPG) if d.value in only):
        name = f"pr_bench_{uuid.uuid4().hex[:12]}"
        await _admin(args.postgres, f'CREATE DATABASE "{name}"')
        try:
            url = parse_database_url(f"{args.postgres}/{name}").with_driver(driver)
            plain = url.url.render_as_string(hide_password=False)
            migrate(plain)
            await _scenario(f"postgresql+{driver}", plain, args.seconds)
        finally:
            await _admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if "sqlite" not in only:
        return
    with tempfile.TemporaryDirectory() as folder:
        sqlite = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        migrate(sqlite)
        await _scenario("sqlite", sqlite, args.seconds)


if __name__ == "__main__":
    asyncio.run(main())
