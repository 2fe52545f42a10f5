"""Ledger speed, each against a plain baseline measured in the same run:

- rows/s through the batching writer (submit → background batches → close) vs a bare sqlite3
  executemany of the same rows into the same table; also the SQLModel ORM (why rows go in
  through sqlite3) and the cost of one submit() on the hot path;
- CPU per row of ``await writer.commit(row)`` from an event loop (the gateway's settle), one
  and 32 callers at a time, vs one ``Ledger.write([row])`` per row on the same thread (a
  commit's own cost, with nothing around it);
- a summary over 1,000,000 rows from the rollups vs a plain GROUP BY over the rows;
- the per-request budget check (in-memory counters) vs a plain SUM over the rows, plus the
  cross-process check from the rollups;
- tiktoken on a 2 KB prompt vs ``len(text)`` (what counting costs next to a ledger row).

Goals (ledger issue): >= 20,000 rows/s, summary < 100 ms, budget check < 0.2 ms.
Run: ``.venv/bin/python bench/ledger_bench.py`` (about a minute).
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from promptready import tokens
from promptready.ledger.records import UsageRecord
from promptready.ledger.store import COLUMNS, Ledger, _row
from promptready.ledger.writer import BatchWriter

# The baseline: one plain INSERT per row through executemany (no dedup, no rollups, no queue).
_INSERT = f"INSERT INTO calls ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


def without_rollups(ledger: Ledger) -> Ledger:
    """The ledger's file with its rollup trigger dropped (migration 006): plain inserts only."""
    ledger.conn.execute("DROP TRIGGER IF EXISTS calls_rollup")
    return ledger


APPS = ["editor", "agent", "script", "notebook"]
MODELS = ["gpt-4o-mini", "gpt-4o", "llama-3.1-8b", "deepseek-chat"]
MODES = ["byok", "byok", "credits", "cache"]
BIG = 1_000_000
TODAY = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


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
            latency_ms=rng.uniform(100, 2000),
            timestamp=TODAY - timedelta(seconds=rng.randint(0, 90 * 86400)),
        )
        for _ in range(n)
    ]


def timed(func: Callable[[], object], rounds: int = 1) -> float:
    """Median seconds of ``rounds`` runs."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def line(name: str, ours: str, base_name: str, base: str, ratio: str, goal: str = "") -> None:
    shown = f"ratio {ratio:>9}" if ratio else " " * 15
    print(f"{name:<26}{ours:>16}   {base_name:<22}{base:>16}   {shown}   {goal}".rstrip())


def bench_writes(folder: Path) -> None:
    batch = records(50_000)
    writer = BatchWriter(folder / "writer.db")
    start = time.perf_counter()
    for r in batch:
        writer.submit(r)
    submitted = time.perf_counter() - start
    writer.close()
    ours = len(batch) / (time.perf_counter() - start)

    plain = without_rollups(Ledger(folder / "plain.db"))  # no dedup, no rollups, no queue
    rows = [_row(r, False) for r in batch]
    start = time.perf_counter()
    with plain.conn:
        plain.conn.execute("BEGIN")
        plain.conn.executemany(_INSERT, rows)
    base = len(batch) / (time.perf_counter() - start)
    plain.close()
    line("batching writer", f"{ours:,.0f} rows/s", "plain executemany", f"{base:,.0f} rows/s",
         f"{ours / base:.2f}", "goal >= 20,000 rows/s")  # fmt: skip
    line("submit() per call", f"{submitted / len(batch) * 1e6:.2f} µs", "", "", "", "hot path")

    from promptready.ledger.schema import Call, session

    orm_rows = [dict(zip(COLUMNS, row, strict=True)) for row in rows[:10_000]]
    Ledger(folder / "orm.db").close()
    start = time.perf_counter()
    with session(folder / "orm.db") as db:
        db.add_all([Call(**row) for row in orm_rows])
        db.commit()
    orm = len(orm_rows) / (time.perf_counter() - start)
    line("SQLModel ORM insert", f"{orm:,.0f} rows/s", "plain executemany", f"{base:,.0f} rows/s",
         f"{orm / base:.2f}", "(why writes use sqlite3)")  # fmt: skip


def bench_record() -> None:
    """Building one record as the meter does (validation included) vs a dict of its fields."""
    fields = {"source": "gateway", "mode": "byok", "app": "editor", "provider": "openai",
              "model": "gpt-4o-mini", "prompt_tokens": 100, "completion_tokens": 20,
              "cost_usd": Decimal("0.000027"), "latency_ms": 250.0, "request_id": "r1"}  # fmt: skip
    n = 20_000
    built = timed(lambda: [UsageRecord(**fields) for _ in range(n)], 5) / n  # type: ignore[arg-type]
    plain = timed(lambda: [dict(fields) for _ in range(n)], 5) / n
    line("UsageRecord(...)", f"{built * 1e6:.2f} µs", "dict of its fields", f"{plain * 1e6:.2f} µs",
         f"{built / plain:.1f}", "per metered call")  # fmt: skip


def bench_loop_commits(folder: Path) -> None:
    import asyncio

    n = 3000
    direct = Ledger(folder / "direct.db")
    rows = records(n, seed=3)
    start = time.process_time()
    for r in rows:
        direct.write([r])
    floor = (time.process_time() - start) / n
    direct.close()

    async def commits(concurrency: int) -> float:
        writer = BatchWriter(folder / f"loop{concurrency}.db")
        batch = iter(records(n + 320, seed=concurrency))

        async def caller(k: int) -> None:
            for _ in range(k):
                await writer.commit(next(batch))

        await asyncio.gather(*(caller(10) for _ in range(concurrency)))  # warm
        start = time.process_time()
        await asyncio.gather(*(caller(n // concurrency) for _ in range(concurrency)))
        used = (time.process_time() - start) / (n // concurrency * concurrency)
        writer.close()
        return used

    for concurrency in (1, 32):
        used = asyncio.run(commits(concurrency))
        line(f"commit() on a loop, c={concurrency}", f"{used * 1e6:.1f} µs CPU", "one write per row",
             f"{floor * 1e6:.1f} µs CPU", f"{used / floor:.2f}", "per row, thread CPU included")  # fmt: skip


def fill(path: Path) -> None:
    """1,000,000 rows over 90 days by executemany in big batches, rollups built once after."""
    ledger = without_rollups(Ledger(path))
    rng = random.Random(7)
    conn = ledger.conn
    conn.execute("PRAGMA synchronous=OFF")
    for chunk in range(0, BIG, 100_000):
        rows = []
        for i in range(chunk, chunk + 100_000):
            ts = TODAY - timedelta(seconds=rng.randrange(90 * 86400))
            rows.append(
                (f"{i:032x}", ts.isoformat(), ts.date().isoformat(), "gateway", rng.choice(APPS),
                 rng.choice(MODES), "openai", rng.choice(MODELS), rng.randint(10, 2000),
                 rng.randint(5, 800), 0, rng.randint(1, 50000), 0, 300.0, None, "ok", None,
                 None, 0, None, None, 0)
            )  # fmt: skip
        conn.execute("BEGIN")
        conn.executemany(_INSERT, rows)
        conn.execute("COMMIT")
    conn.execute(
        "INSERT INTO rollup_sums SELECT day, source, COALESCE(app, ''), mode, COALESCE(model, ''), "
        "COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_micro_usd), SUM(credits), "
        "SUM(unpriced) FROM calls GROUP BY 1, 2, 3, 4, 5"
    )
    ledger.close()  # the file stays without its trigger: the queries below only read


def bench_queries(path: Path) -> None:
    big = Ledger(path)
    by_day = timed(lambda: big.totals("day"), 5)
    plain_day = timed(
        lambda: big.conn.execute(
            "SELECT day, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), "
            "SUM(cost_micro_usd), SUM(credits) FROM calls GROUP BY day"
        ).fetchall(),
        3,
    )
    line("summary by day, 1M rows", f"{by_day * 1e3:.2f} ms", "plain GROUP BY day",
         f"{plain_day * 1e3:.1f} ms", f"{by_day / plain_day:.4f}", "goal < 100 ms")  # fmt: skip
    since = (TODAY - timedelta(days=30)).date()
    by_model = timed(lambda: big.totals("model", since), 5)
    plain_model = timed(
        lambda: big.conn.execute(
            "SELECT model, COUNT(*), SUM(cost_micro_usd) FROM calls WHERE day >= ? GROUP BY model",
            (since.isoformat(),),
        ).fetchall(),
        3,
    )
    line("30-day summary by model", f"{by_model * 1e3:.2f} ms", "plain GROUP BY model",
         f"{plain_model * 1e3:.1f} ms", f"{by_model / plain_model:.4f}", "goal < 100 ms")  # fmt: skip

    counters = BatchWriter(path)
    check = timed(lambda: [counters.spent("editor") for _ in range(10_000)], 3) / 10_000
    counters.close()
    day = TODAY.date().isoformat()
    next_day = (TODAY + timedelta(days=1)).date().isoformat()
    plain_sum = timed(
        lambda: big.conn.execute(
            "SELECT SUM(cost_micro_usd) FROM calls WHERE ts >= ? AND ts < ? AND app = ?",
            (day, next_day, "editor"),
        ).fetchone(),
        5,
    )
    rollup_check = timed(lambda: [big.budget_spent("editor") for _ in range(100)], 3) / 100
    line("budget check (memory)", f"{check * 1e3:.4f} ms", "plain SUM, one day",
         f"{plain_sum * 1e3:.2f} ms", f"{check / plain_sum:.5f}", "goal < 0.2 ms")  # fmt: skip
    line("budget check (rollups)", f"{rollup_check * 1e3:.4f} ms", "plain SUM, one day",
         f"{plain_sum * 1e3:.2f} ms", f"{rollup_check / plain_sum:.4f}", "cross-process")  # fmt: skip
    big.close()


def bench_tokens() -> None:
    prompt = ("Please review the following function and explain the bug. " * 40)[:2048]
    tokens.count_text(prompt, "gpt-4o")
    count = timed(lambda: [tokens.count_text(prompt, "gpt-4o") for _ in range(200)], 3) / 200
    length = timed(lambda: [len(prompt) for _ in range(200)], 3) / 200
    line("tiktoken, 2 KB prompt", f"{count * 1e3:.4f} ms", "len(text)",
         f"{length * 1e3:.5f} ms", f"{count / length:,.0f}")  # fmt: skip


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="pr-ledger-bench-"))
    try:
        bench_record()
        bench_writes(folder)
        bench_loop_commits(folder)
        start = time.perf_counter()
        fill(folder / "big.db")
        print(f"(filled {BIG:,} rows in {time.perf_counter() - start:.1f} s)", flush=True)
        bench_queries(folder / "big.db")
        bench_tokens()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
