"""Ledger speed, ratios against plain baselines in the same run:
rows/s through the batching writer vs a bare sqlite3 executemany of the same rows; a summary over
1,000,000 rows from the rollups vs a plain GROUP BY over the rows; the per-request budget check
(in-memory counter) vs a plain SUM; tiktoken on a 2 KB prompt vs ``len(text)``.

Goals (ledger issue): >= 20,000 rows/s, summary < 100 ms, budget check < 0.2 ms.
Run: ``.venv/bin/python bench/ledger_bench.py`` (about a minute).
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from promptready import tokens
from promptready.ledger.records import UsageRecord
from promptready.ledger.store import Ledger
from promptready.ledger.writer import BatchWriter

APPS = ["editor", "agent", "script", "notebook"]
MODELS = ["gpt-4o-mini", "gpt-4o", "llama-3.1-8b", "deepseek-chat"]
START = datetime(2026, 8, 1, tzinfo=UTC)


def records(n: int, seed: int = 1) -> list[UsageRecord]:
    rng = random.Random(seed)
    return [
        UsageRecord(
            source="gateway",
            mode="byok",
            app=rng.choice(APPS),
            model=rng.choice(MODELS),
            provider="openai",
            prompt_tokens=rng.randint(10, 2000),
            completion_tokens=rng.randint(5, 800),
            cost_usd=Decimal(rng.randint(1, 50000)) / Decimal(1_000_000),
            timestamp=START + timedelta(seconds=rng.randint(0, 90 * 86400)),
        )
        for _ in range(n)
    ]


def timed(func: object, rounds: int = 1) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="pr-ledger-bench-"))
    batch = records(50_000)

    writer = BatchWriter(folder / "writer.db")
    start = time.perf_counter()
    for r in batch:
        writer.submit(r)
    writer.close()
    ours = len(batch) / (time.perf_counter() - start)
    base_conn = sqlite3.connect(folder / "plain.db")
    base_conn.execute("PRAGMA journal_mode=WAL")
    base_conn.execute(
        "CREATE TABLE t (id TEXT, ts TEXT, app TEXT, model TEXT, p INT, c INT, cost INT)"
    )
    rows = [
        (r.id, r.timestamp.isoformat(), r.app, r.model, r.prompt_tokens, r.completion_tokens, 1)
        for r in batch
    ]
    start = time.perf_counter()
    with base_conn:
        base_conn.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?)", rows)
    base = len(batch) / (time.perf_counter() - start)
    print(
        f"batching writer        {ours:>12,.0f} rows/s   plain executemany {base:>12,.0f} rows/s   ratio {ours / base:.2f}   goal >= 20,000"
    )

    big = Ledger(folder / "big.db")
    print("filling 1,000,000 rows ...", flush=True)
    for i in range(20):
        big.write(records(50_000, seed=100 + i))
    summary = timed(lambda: big.totals("day"), 5)
    since = (START + timedelta(days=60)).date()
    summary_model = timed(lambda: big.totals("model", since), 5)
    plain = timed(
        lambda: big.conn.execute(
            "SELECT day, COUNT(*), SUM(cost_micro_usd) FROM calls GROUP BY day"
        ).fetchall(),
        3,
    )
    print(
        f"summary by day, 1M rows {summary * 1000:>9.2f} ms   plain GROUP BY {plain * 1000:>9.1f} ms   ratio {summary / plain:.4f}   goal < 100 ms"
    )
    print(f"30-day summary by model {summary_model * 1000:>9.2f} ms")

    counter = BatchWriter(folder / "big.db")
    check = timed(lambda: [counter.spent("editor") for _ in range(10_000)], 3) / 10_000
    day = (START + timedelta(days=45)).date().isoformat()
    plain_sum = timed(
        lambda: big.conn.execute(
            "SELECT SUM(cost_micro_usd) FROM calls WHERE app = ? AND day = ?", ("editor", day)
        ).fetchone(),
        5,
    )
    counter.close()
    print(
        f"budget check            {check * 1000:>9.4f} ms   plain SUM      {plain_sum * 1000:>9.2f} ms   ratio {check / plain_sum:.5f}   goal < 0.2 ms"
    )

    prompt = ("Please review the following function and explain the bug. " * 40)[:2048]
    tokens.count_text(prompt, "gpt-4o")
    count = timed(lambda: [tokens.count_text(prompt, "gpt-4o") for _ in range(200)], 3) / 200
    length = timed(lambda: [len(prompt) for _ in range(200)], 3) / 200
    print(
        f"tiktoken 2 KB prompt    {count * 1000:>9.4f} ms   len(text)      {length * 1000:>9.5f} ms   ratio {count / length:,.0f}"
    )


if __name__ == "__main__":
    main()
