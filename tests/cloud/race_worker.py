"""One side of a two-process race (run by ``test_store_processes.py``): admit and settle
``--attempts`` requests for ``--device`` as fast as possible, ``--tasks`` at a time, then print
how many were admitted as JSON. A second process runs the same against the same database; both
start on the test's "go" line so they really overlap."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from datetime import datetime
from decimal import Decimal

from promptready.cloud.clock import FixedClock
from promptready.cloud.store import (
    Admission,
    BreakerOpen,
    InsufficientCredits,
    RateLimited,
    Store,
    UsageRecord,
)
from tests.cloud.wallets import store_settings


async def race(args: argparse.Namespace) -> int:
    clock = None if args.frozen_at is None else FixedClock(datetime.fromisoformat(args.frozen_at))
    settings = store_settings(weekly_cap_usd=args.cap, spend_shards=1, device_rps=args.rps)
    store = await Store.open(args.url, settings, clock)
    await store.credits(args.device)  # connected and warm
    # Start together: say "ready", then wait for the test's "go" on stdin.
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    device_id, cost = args.device, args.cost
    queue = list(range(args.attempts))
    admitted = 0

    async def worker() -> None:
        nonlocal admitted
        while queue:
            queue.pop()
            try:
                admission = await store.admit(
                    device_id, credits=1, cost_usd=cost, idempotency_key=None
                )
            except (InsufficientCredits, BreakerOpen, RateLimited):
                continue
            assert isinstance(admission, Admission)
            admitted += 1
            await store.settle(
                admission.hold_id, UsageRecord(10, 10, admission.model, "A", cost, 1, 1, "ok")
            )

    try:
        await asyncio.gather(*(worker() for _ in range(args.tasks)))
    finally:
        await store.close()
    return admitted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--device", type=uuid.UUID, required=True)
    parser.add_argument("--attempts", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--cost", type=Decimal, default=Decimal("0.001"))
    parser.add_argument("--cap", type=Decimal, default=Decimal(100))
    parser.add_argument("--rps", type=float, default=0.0)
    parser.add_argument("--frozen-at", help="ISO time for a clock that stands still")
    args = parser.parse_args()
    admitted = asyncio.run(race(args))
    print(json.dumps({"admitted": admitted}))


if __name__ == "__main__":
    main()
