"""One side of a two-process race (run by ``test_store_processes.py``): admit and settle
``--attempts`` requests for ``--device`` as fast as possible, ``--tasks`` at a time, then print
how many were admitted as JSON. A second process runs the same against the same database."""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from decimal import Decimal

from promptready.cloud.store import Admission, BreakerOpen, InsufficientCredits, Store, UsageRecord
from tests.cloud.wallets import store_settings


async def race(
    url: str, device_id: uuid.UUID, attempts: int, tasks: int, cost: Decimal, cap: Decimal
) -> int:
    store = await Store.open(url, store_settings(weekly_cap_usd=cap, spend_shards=1))
    queue = list(range(attempts))
    admitted = 0

    async def worker() -> None:
        nonlocal admitted
        while queue:
            queue.pop()
            try:
                admission = await store.admit(
                    device_id, credits=1, cost_usd=cost, idempotency_key=None
                )
            except (InsufficientCredits, BreakerOpen):
                continue
            assert isinstance(admission, Admission)
            admitted += 1
            await store.settle(
                admission.hold_id, UsageRecord(10, 10, admission.model, "A", cost, 1, 1, "ok")
            )

    try:
        await asyncio.gather(*(worker() for _ in range(tasks)))
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
    args = parser.parse_args()
    admitted = asyncio.run(
        race(args.url, args.device, args.attempts, args.tasks, args.cost, args.cap)
    )
    print(json.dumps({"admitted": admitted}))


if __name__ == "__main__":
    main()
