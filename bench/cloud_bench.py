"""The hosted proxy's overhead, from ONE run on loopback: the fake upstream alone vs through
``promptready-cloud serve`` (auth, breaker, wallet hold, rate limit, settle, usage event), for
enhance and chat (JSON and 16-chunk streams), at concurrency 1 and 32, on SQLite, on PostgreSQL
with one instance and on PostgreSQL with two (``--workers 2``: two processes on one socket),
and the HTTP layer alone (the app on a store that does nothing).

Every request is charged to one device's wallet (the hardest case: one hot wallet row); after
each run the balance must have dropped by exactly the credits of the requests that succeeded
(warm-up included: a failed request charges nothing) and nothing may stay held.

Uses the shared measuring tools (fake_upstream.py, load.py from ../shared/bench, or the folder in
PROMPTREADY_SHARED_BENCH); they need uvicorn, httptools, uvloop and orjson. PostgreSQL is the
server on 127.0.0.1:5432 (a database is created and dropped). Bounded: ``-n`` requests per cell
and 30 s per run, 127.0.0.1 only.

Each cell also reports the CPU per answered request of PostgreSQL (the bench database's
backends), the fake upstream and the load generator next to the proxy's, so what bounds the
throughput on this machine can be read off. A wallet that disagrees is explained: read again
for a few seconds, a settle still running is told apart from a leak.

Run: ``PYTHONPATH=src .venv/bin/python bench/cloud_bench.py [-n 1000] [--only postgres2 ...]
[--before ../main/src]`` (``--before``: the same targets on another checkout first, one run).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from promptready.cloud.app import create_app
from promptready.cloud.auth import TokenService
from promptready.cloud.cohorts import Cohort
from promptready.cloud.config import PREFIX
from promptready.cloud.config import load as load_config
from promptready.cloud.store import (
    Admission,
    Bucket,
    CreditsView,
    LedgerKind,
    Store,
    WeeklySpend,
)

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
JWT_SECRET = "bench-jwt-secret-0123456789abcdef0123456789"
CREDITS = 10_000_000
WARMUP = 32
MAX_SECONDS = 30.0
DEVICES = 32
ENHANCE_BODY = {"content": "write a python function that sorts a list of dicts by a key"}


def shared_bench() -> Path:
    candidates = [
        Path(os.environ.get("PROMPTREADY_SHARED_BENCH", "")),
        ROOT.parent / "shared" / "bench",
        ROOT.parent.parent / "shared" / "bench",
    ]
    for folder in candidates:
        if (folder / "load.py").is_file() and (folder / "fake_upstream.py").is_file():
            return folder
    raise SystemExit("the shared measuring tools (load.py, fake_upstream.py) were not found")


SHARED = shared_bench()
sys.path.insert(0, str(SHARED))
# The shared generator, imported from where it lives (untyped, so Any to mypy).
load: Any = importlib.import_module("load")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"nothing listened on {port}")


@dataclass(frozen=True)
class Cell:
    """One measured run."""

    target: str
    kind: str  # enhance | json | stream
    c: int
    result: dict[str, Any]
    balance_ok: bool | None = None


def enhance_request(token: str) -> Callable[..., tuple[tuple[str, int], bytes]]:
    """A ``load.build_request`` replacement that posts an enhance body instead of a chat one."""
    payload = json.dumps(ENHANCE_BODY).encode()

    def build(base_url: str, *_: Any, **__: Any) -> tuple[tuple[str, int], bytes]:
        parts = urlsplit(base_url)
        head = (
            f"POST /api/v1/enhance HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: application/json\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: keep-alive\r\n\r\n"
        )
        return (parts.hostname or "127.0.0.1", parts.port or 80), head.encode() + payload

    return build


@dataclass(frozen=True)
class Rig:
    """The processes around a measured proxy: whose CPU a cell reports besides the proxy's."""

    upstream_pid: int
    database: str | None = None  # the bench's PostgreSQL database (its backends' CPU)

    def backends(self) -> list[int]:
        if self.database is None:
            return []
        found = subprocess.run(
            [*PSQL, "-Atc", f"SELECT pid FROM pg_stat_activity WHERE datname = '{self.database}'"],
            check=True,
            capture_output=True,
            text=True,
        )
        return [int(pid) for pid in found.stdout.split()]


PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"]


def cpu_s(pids: list[int]) -> float:
    """user+system CPU seconds of ``pids`` (those still alive)."""
    return sum(load.tree_cpu_s(pid) or 0.0 for pid in pids if Path(f"/proc/{pid}").exists())


async def measure(
    url: str,
    c: int,
    n: int,
    stream: bool,
    headers: dict[str, str],
    pid: int | None = None,
    rig: Rig | None = None,
) -> dict[str, Any]:
    """One cell: a warm-up of its own (``warm_ok``: how many of those answered 2xx, since they
    are charged too), then ``n`` measured requests; with ``rig``, the CPU per answered request
    of PostgreSQL, the fake upstream and this load generator next to the proxy's."""
    warm: dict[str, Any] = await load.run_load(
        url, c, max(c, WARMUP), stream, "fake-gpt", headers, 0, MAX_SECONDS
    )
    backends = rig.backends() if rig else []
    before = (
        cpu_s(backends),
        cpu_s([rig.upstream_pid]) if rig else 0.0,
        time.process_time(),
    )
    result: dict[str, Any] = await load.run_load(
        url, c, n, stream, "fake-gpt", headers, 0, MAX_SECONDS, cpu_pid=pid
    )
    result["warm_ok"] = warm["ok"]
    result["errors"] += warm["errors"]
    if rig and result["ok"]:
        # Backends the pools opened during the run started at ~0 CPU.
        after_backends = sorted(set(backends) | set(rig.backends()))
        per = 1000.0 / result["ok"]
        result["cpu_pg"] = round((cpu_s(after_backends) - before[0]) * per, 3)
        result["cpu_upstream"] = round((cpu_s([rig.upstream_pid]) - before[1]) * per, 3)
        result["cpu_loadgen"] = round((time.process_time() - before[2]) * per, 3)
    return result


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"pr_bench_{uuid.uuid4().hex[:12]}"
    admin = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"]
    subprocess.run([*admin, f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        subprocess.run(
            [*admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
            check=False,
            capture_output=True,
        )


@contextmanager
def proxy(env: dict[str, str], workers: int) -> Iterator[tuple[str, int]]:
    """``promptready-cloud serve`` on a free port; yields its base URL and pid, then prints the
    proxy's error log lines (JSON: event and exception type, nothing secret)."""
    command = ["promptready.cloud", "serve", "--port", "0", "--workers", str(workers)]
    # The log goes to a file, not a pipe: a full pipe would stall the proxy.
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *command],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            found = re.fullmatch(r"listening on (http://\S+)\n", line)
            if found is None:
                raise SystemExit(f"the proxy did not start: {line!r}")
            yield found.group(1), process.pid
        finally:
            process.terminate()
            process.wait(timeout=60)
            log.seek(0)
            for entry in log:
                if '"level":"error"' in entry:
                    print(f"  proxy error: {entry.strip()}", file=sys.stderr)


class Wallet:
    """The bench device's wallet, read through a store of our own on the same database."""

    def __init__(self, store: Store, device_id: uuid.UUID) -> None:
        self.store = store
        self.device_id = device_id

    async def balance(self) -> tuple[int, int]:
        view = await self.store.credits(self.device_id)
        return view.balance, view.reserved


async def register(url: str) -> tuple[uuid.UUID, str]:
    import httpx

    device_id = uuid.uuid4()
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/api/v1/auth/device", json={"device_id": str(device_id)})
        response.raise_for_status()
    return device_id, response.json()["access_token"]


async def funded_device(url: str, store: Store) -> tuple[uuid.UUID, str]:
    """A registered device holding CREDITS purchased credits, and its token."""
    device_id, token = await register(url)
    await store.grant(
        device_id,
        CREDITS,
        bucket=Bucket.PURCHASED,
        kind=LedgerKind.GRANT,
        idem_key=f"bench:{device_id}",
        reason="bench",
    )
    return device_id, token


async def many_devices(url: str, n: int, store: Store) -> tuple[float, bool]:
    """Chat JSON from DEVICES devices at once, one connection each (c=32 in all): the
    charged req/s, and whether every wallet dropped by exactly its answered requests."""
    devices = [await funded_device(url, store) for _ in range(DEVICES)]
    per = max(1, n // DEVICES)
    before = [(await store.credits(d)).balance for d, _ in devices]

    async def one_device(token: str) -> dict[str, Any]:
        auth = {"Authorization": f"Bearer {token}"}
        warm = await load.run_load(f"{url}/v1", 1, 2, False, "fake-gpt", auth, 0, MAX_SECONDS)
        result: dict[str, Any] = await load.run_load(
            f"{url}/v1", 1, per, False, "fake-gpt", auth, 0, MAX_SECONDS
        )
        result["warm_ok"], result["errors"] = warm["ok"], result["errors"] + warm["errors"]
        return result

    results = await asyncio.gather(*(one_device(t) for _, t in devices))
    exact = True
    for (device_id, _), was, result in zip(devices, before, results, strict=True):
        exact &= (await check_balance("32 devices", Wallet(store, device_id), was, result)).ok
    rps = sum(r["ok"] for r in results) / max(r["secs"] for r in results)
    return rps, exact


@dataclass(frozen=True)
class BalanceCheck:
    """A wallet after a cell: charged exactly the answered requests, nothing held."""

    ok: bool
    note: str = ""


SETTLE_GRACE_S = 5.0


async def check_balance(
    where: str, wallet: Wallet, before: int, result: dict[str, Any]
) -> BalanceCheck:
    """Every 2xx answer (warm-up included) charged 1 credit and nothing is held. A mismatch is
    explained: read again for SETTLE_GRACE_S, so a settle still running when the load generator
    finished (a race in this check) is told apart from a leak (a hold that never resolves, or a
    charge that answered no request)."""
    expected = result["ok"] + result["warm_ok"]
    after, reserved = await wallet.balance()
    if before - after == expected and reserved == 0:
        return BalanceCheck(True)
    first = f"charged {before - after} of {expected} answered, {reserved} reserved"
    deadline = time.monotonic() + SETTLE_GRACE_S
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        after, reserved = await wallet.balance()
        if before - after == expected and reserved == 0:
            note = f"{where}: {first} at once, exact {SETTLE_GRACE_S:.0f} s later (settle race)"
            print(f"  {note}", file=sys.stderr)
            return BalanceCheck(True, note)
    note = f"{where}: {first}; still {before - after} and {reserved} after the grace (LEAK)"
    print(f"  {note}", file=sys.stderr)
    return BalanceCheck(False, note)


async def bench_target(
    name: str,
    env: dict[str, str],
    workers: int,
    n: int,
    cells: list[Cell],
    spread: list[tuple[str, float, bool]],
    rig: Rig,
) -> None:
    config = load_config({**os.environ, **env})
    store = await Store.open(config.database_url, config.store_settings())
    try:
        with proxy(env, workers) as (url, pid):
            device_id, token = await funded_device(url, store)
            wallet = Wallet(store, device_id)
            auth = {"Authorization": f"Bearer {token}"}
            for kind in ("enhance", "json", "stream"):
                for c in (1, 32):
                    before, _ = await wallet.balance()
                    original = load.build_request
                    if kind == "enhance":
                        load.build_request = enhance_request(token)
                    try:
                        result = await measure(f"{url}/v1", c, n, kind == "stream", auth, pid, rig)
                    finally:
                        load.build_request = original
                    check = await check_balance(f"{name} {kind} c={c}", wallet, before, result)
                    cells.append(Cell(name, kind, c, result, check.ok))
                    print(
                        f"[{name:>14}] {kind:<7} {load.fmt_run(result)} balance_ok={check.ok}"
                        f" | CPU ms/req pg={result.get('cpu_pg')} "
                        f"upstream={result.get('cpu_upstream')} loadgen={result.get('cpu_loadgen')}",
                        file=sys.stderr,
                    )
            spread.append((name, *await many_devices(url, n, store)))
            problems = await store.check_invariants()
            if problems:
                raise SystemExit(f"invariants broken after {name}: {problems}")
    finally:
        await store.close()


def table(cells: list[Cell]) -> str:
    base = {(c.kind, c.c): c.result for c in cells if c.target == "upstream alone"}
    rows = [
        "| target | request | c | req/s | p50 ms | p99 ms | +p50 ms | +p99 ms | req/s ratio "
        "| CPU ms/req: proxy | postgres | upstream | load gen | errors | exact balance |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cell in cells:
        r = cell.result
        b = base[("json" if cell.kind == "enhance" else cell.kind, cell.c)]
        ok = "-" if cell.balance_ok is None else ("yes" if cell.balance_ok else "NO")
        rows.append(
            f"| {cell.target} | {cell.kind} | {cell.c} | {r['rps']:.0f} | {r['p50']:.2f} | "
            f"{r['p99']:.2f} | {r['p50'] - b['p50']:+.2f} | {r['p99'] - b['p99']:+.2f} | "
            f"{r['rps'] / b['rps']:.3f} | {r.get('cpu_ms_req', '-')} | {r.get('cpu_pg', '-')} | "
            f"{r.get('cpu_upstream', '-')} | {r.get('cpu_loadgen', '-')} | {r['errors']} | {ok} |"
        )
    return "\n".join(rows)


class NoopStore:
    """A store that admits everything and records nothing: what is left of the proxy's cost
    is the HTTP layer's own (auth, parsing, the upstream call, metrics, logs)."""

    cohort = Cohort("A", 1, "gpt-4o-mini")

    async def ensure_schema(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def admit(self, device_id: uuid.UUID, **_: Any) -> Admission:
        return Admission("hold", 1, Decimal(0), self.cohort, self.cohort.model, False)

    async def settle(self, hold_id: str, usage: Any, **_: Any) -> CreditsView:
        buckets = {Bucket.PURCHASED: CREDITS}
        return CreditsView(uuid.UUID(int=1), CREDITS, 0, CREDITS, buckets, "A", "free", False)

    async def release(self, hold_id: str) -> None:
        return None

    async def expire_holds(self) -> int:
        return 0

    async def weekly_spend(self) -> WeeklySpend:
        return WeeklySpend("-", Decimal(0), Decimal(0), Decimal(1))


def serve_noop_store(port: int) -> None:
    """The ``--noop-store PORT`` child: the app on a no-op store; prints a token, then serves."""
    import uvicorn

    from promptready.cloud.coalesce import CoalescingHttpToolsProtocol

    config = load_config(os.environ)
    app = create_app(config, env={}, store=NoopStore())  # type: ignore[arg-type]
    keys = config.require_serving()
    print(TokenService(keys).issue(uuid.uuid4()), flush=True)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http=CoalescingHttpToolsProtocol,  # as ``serve`` runs it
        log_level="warning",
    )


async def http_layer_alone(env: dict[str, str], n: int, cells: list[Cell]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--noop-store", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        token = process.stdout.readline().strip()
        wait_for_port(port)
        auth = {"Authorization": f"Bearer {token}"}
        for kind, stream in (("json", False), ("stream", True)):
            for c in (1, 32):
                url = f"http://127.0.0.1:{port}/v1"
                result = await measure(url, c, n, stream, auth, process.pid)
                cells.append(Cell("HTTP layer alone", kind, c, result))
                print(f"[  HTTP layer ] {kind:<7} {load.fmt_run(result)}", file=sys.stderr)
    finally:
        process.terminate()
        process.wait(timeout=60)


TARGETS = ("http", "sqlite", "postgres", "postgres2", "webhooks")
# The proxy targets: (--only name, table name, workers, database).
PROXIES = (
    ("sqlite", "SQLite", 1, "sqlite"),
    ("postgres", "PostgreSQL", 1, "postgresql"),
    ("postgres2", "PostgreSQL x2", 2, "postgresql"),
)


@dataclass(frozen=True)
class Plan:
    """What one run measures: ``n`` requests per cell, the targets, and optionally another
    checkout's ``src`` run through the same targets just before ours ("before" rows)."""

    n: int
    only: frozenset[str]
    before_src: Path | None = None


async def run(plan: Plan, spread: list[tuple[str, float, bool]]) -> list[Cell]:
    up_port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, str(SHARED / "fake_upstream.py"), "--port", str(up_port)], cwd=SHARED
    )
    cells: list[Cell] = []
    home = Path(tempfile.mkdtemp(prefix="pr-cloud-bench-"))
    n = plan.n
    try:
        wait_for_port(up_port)
        direct = f"http://127.0.0.1:{up_port}/v1"
        for kind, stream in (("json", False), ("stream", True)):
            for c in (1, 32):
                result = await measure(direct, c, n, stream, {})
                cells.append(Cell("upstream alone", kind, c, result))
                print(f"[upstream alone] {kind:<7} {load.fmt_run(result)}", file=sys.stderr)
        base_env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "PROMPTREADY_HOME": str(home),
            PREFIX + "JWT_SECRET": JWT_SECRET,
            PREFIX + "UPSTREAM_BASE_URL": direct,
            PREFIX + "COHORTS": "A:1:gpt-4o-mini",
            PREFIX + "DEGRADE_MODEL": "",
            PREFIX + "DEVICE_RPS": "0",
            PREFIX + "REGISTRATIONS_PER_HOUR": "0",
            PREFIX + "WEEKLY_CAP_USD": "1000000",
        }
        if "http" in plan.only:
            sqlite_env = {**base_env, PREFIX + "DATABASE_URL": f"sqlite:///{home / 'http.sqlite3'}"}
            await http_layer_alone(sqlite_env, n, cells)
        trees = [("", ROOT / "src")]
        if plan.before_src is not None:
            trees.insert(0, (" (before)", plan.before_src))
        for key, name, workers, dialect in PROXIES:
            if key not in plan.only:
                continue
            for suffix, src in trees:  # before, then ours: the same minute, the same load
                env = {**base_env, "PYTHONPATH": str(src)}
                label = name + suffix
                if dialect == "sqlite":
                    file = home / f"cloud-{len(cells)}.sqlite3"
                    env[PREFIX + "DATABASE_URL"] = f"sqlite:///{file}"
                    rig = Rig(upstream.pid)
                    await bench_target(label, env, workers, n, cells, spread, rig)
                    continue
                with postgres_database() as url:
                    env[PREFIX + "DATABASE_URL"] = url
                    rig = Rig(upstream.pid, url.rsplit("/", 1)[1])
                    await bench_target(label, env, workers, n, cells, spread, rig)
    finally:
        upstream.terminate()
        upstream.wait(timeout=30)
    return cells


def summary(cells: list[Cell]) -> str:
    """The issue's goals, for each tree measured."""
    base1 = next(c for c in cells if c.target == "upstream alone" and c.kind == "json" and c.c == 1)
    lines = []
    for suffix in ("", " (before)"):
        pg1 = [c for c in cells if c.target == "PostgreSQL" + suffix and c.kind == "json"]
        pg2 = [c for c in cells if c.target == "PostgreSQL x2" + suffix and c.c == 32]
        added = [f"{c.result['p50'] - base1.result['p50']:+.2f} ms" for c in pg1 if c.c == 1]
        if not (added or pg2):
            continue
        lines.append(
            f"{suffix.strip() or '(this tree)'}: added p50 at c=1, chat JSON, PostgreSQL: "
            f"{', '.join(added) or '-'} (goal <= 2 ms); charged req/s at c=32, two instances "
            "on PostgreSQL: "
            + ", ".join(f"{c.kind} {c.result['rps']:.0f}" for c in pg2)
            + " (goal >= 1000)"
        )
    exact = all(c.balance_ok for c in cells if c.balance_ok is not None)
    lines.append("exact balances: " + ("all" if exact else "NOT ALL"))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000, help="requests per cell (default 1000)")
    parser.add_argument(
        "--only", choices=TARGETS, action="append", help="measure only these targets (repeatable)"
    )
    parser.add_argument(
        "--before",
        type=Path,
        metavar="SRC",
        help="another checkout's src folder, run through the same targets first (before/after)",
    )
    parser.add_argument("--noop-store", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.noop_store:
        serve_noop_store(args.noop_store)
        return
    plan = Plan(args.n, frozenset(args.only or TARGETS), args.before)
    spread: list[tuple[str, float, bool]] = []
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    cells = asyncio.run(run(plan, spread))
    print(f"load average after: {os.getloadavg()}")
    print(table(cells))
    print(f"\nchat JSON from {DEVICES} devices at once (one connection each):")
    for name, rps, exact in spread:
        print(f"  {name}: {rps:.0f} charged req/s, exact balances: {'yes' if exact else 'NO'}")
    print("\n" + summary(cells))
    if "webhooks" in plan.only:
        import webhook_bench  # billing's cells: webhook p50 and events/s, 10 concurrent deliveries

        print("\n" + webhook_bench.table(asyncio.run(webhook_bench.run(max(100, args.n // 2)))))


if __name__ == "__main__":
    main()
