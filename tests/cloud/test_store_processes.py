"""Two OS processes on one PostgreSQL database race the same wallet and the same weekly cap;
balances and the cap come out exact (what N server instances behind a load balancer need)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from promptready.cloud.store import Store
from tests.cloud.wallets import new_device, store_settings

ROOT = Path(__file__).resolve().parents[2]


def _race(url: str, device: str, *extra: str) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    command = [sys.executable, "-m", "tests.cloud.race_worker", "--url", url, "--device", device]
    return [
        subprocess.Popen(
            [*command, *extra],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]


def _admitted(processes: list[subprocess.Popen[str]]) -> list[int]:
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=120)[0] for process in processes]
    finally:
        for process in processes:
            process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
    assert [p.returncode for p in processes] == [0, 0]
    return [json.loads(out)["admitted"] for out in outputs]


@pytest.fixture
async def postgres_store(migrated_postgres_url: str) -> AsyncIterator[Store]:
    store = await Store.open(migrated_postgres_url, store_settings(spend_shards=1))
    yield store
    problems = await store.check_invariants()
    await store.close()
    assert problems == []


async def test_two_processes_spend_one_wallet_to_exactly_zero(
    migrated_postgres_url: str, postgres_store: Store
) -> None:
    device_id = await new_device(postgres_store, purchased=25)
    counts = _admitted(_race(migrated_postgres_url, str(device_id), "--attempts", "100"))
    assert sum(counts) == 50
    assert min(counts) > 0, counts  # both processes really took part
    view = await postgres_store.credits(device_id)
    assert (view.balance, view.reserved) == (0, 0)


async def test_two_processes_never_spend_past_the_weekly_cap(
    migrated_postgres_url: str, postgres_store: Store
) -> None:
    device_id = await new_device(postgres_store, purchased=1000)
    counts = _admitted(
        _race(
            migrated_postgres_url,
            str(device_id),
            "--attempts",
            "80",
            "--cost",
            "0.01",
            "--cap",
            "0.40",
        )
    )
    assert sum(counts) == 40
    spend = await postgres_store.weekly_spend()
    assert (spend.committed_usd, spend.reserved_usd) == (Decimal("0.40"), Decimal(0))


async def test_two_processes_share_one_device_rate_limit(
    migrated_postgres_url: str, postgres_store: Store
) -> None:
    device_id = await new_device(postgres_store, purchased=100)
    counts = _admitted(
        _race(
            migrated_postgres_url,
            str(device_id),
            "--attempts",
            "30",
            "--rps",
            "1",
            "--frozen-at",
            "2026-12-09T12:00:00+00:00",
        )
    )
    assert sum(counts) == 1
