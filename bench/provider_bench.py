"""Provider overhead: time to first token and total time through ``OpenAICompatProvider`` vs a bare
``http1.Client`` request (the client the provider stands on) to the same fake upstream, in one run, printed as a ratio and an added p50.

Goal (providers issue): under 0.5 ms added at p50.
Run: ``.venv/bin/python bench/provider_bench.py`` (BENCH_ROUNDS=N to change the count).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from promptready.http1 import Client  # noqa: E402
from promptready.providers.http import HttpClient  # noqa: E402
from promptready.providers.openai_compat import OpenAICompatProvider, StreamDelta  # noqa: E402
from promptready.providers.presets import ProviderConfig  # noqa: E402
from promptready.secrets import ApiKey  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "400"))
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
SERVER = """
import sys, uvicorn
from tests.fakes.upstream import FakeUpstream
uvicorn.run(FakeUpstream(), host="127.0.0.1", port=int(sys.argv[1]), log_level="error",
            access_log=False, lifespan="off", http="httptools")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_upstream() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=ROOT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the fake upstream did not start")


async def bare_json(client: Client, url: str) -> tuple[float, float]:
    started = time.perf_counter()
    headers = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}
    body = json.dumps(BODY).encode()
    r = await client.request("POST", f"{url}/chat/completions", headers, body)
    first = time.perf_counter()
    json.loads(await r.read())["choices"][0]["message"]["content"]
    r.release()
    return first - started, time.perf_counter() - started


async def bare_stream(client: Client, url: str) -> tuple[float, float]:
    started = time.perf_counter()
    first = 0.0
    headers = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}
    body = json.dumps({**BODY, "stream": True, "stream_options": {"include_usage": True}})
    r = await client.request("POST", f"{url}/chat/completions", headers, body.encode())
    async for chunk in r:
        if not first and b'"content"' in chunk:
            first = time.perf_counter()
    r.release()
    return first - started, time.perf_counter() - started


async def provider_json(provider: OpenAICompatProvider) -> tuple[float, float]:
    started = time.perf_counter()
    result = await provider.chat(BODY)
    return result.ttft_ms / 1000, time.perf_counter() - started


async def provider_stream(provider: OpenAICompatProvider) -> tuple[float, float]:
    started = time.perf_counter()
    first = 0.0
    async for event in provider.stream_chat(BODY):
        if not first and isinstance(event, StreamDelta):
            first = time.perf_counter()
    return first - started, time.perf_counter() - started


def p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def measure(name: str, call: object) -> tuple[list[float], list[float]]:
    firsts: list[float] = []
    totals: list[float] = []
    for i in range(ROUNDS + 20):
        first, total = await call()  # type: ignore[operator]
        if i >= 20:  # warm-up: connections, caches
            firsts.append(first)
            totals.append(total)
    return firsts, totals


async def main() -> None:
    proc, url = start_upstream()
    try:
        session = Client()
        try:
            http = HttpClient()
            config = ProviderConfig(name="bench", title="bench", base_url=url)
            provider = OpenAICompatProvider(config, ApiKey("sk-bench-0123456789"), http)
            print(f"provider overhead, {ROUNDS} sequential requests each, same fake upstream\n")
            heads = ("bare p50", "provider p50", "added", "ratio")
            print(f"{'case':<8} {'metric':<16} " + " ".join(f"{h:>12}" for h in heads))
            for label, bare, ours in (
                ("json", lambda: bare_json(session, url), lambda: provider_json(provider)),
                ("stream", lambda: bare_stream(session, url), lambda: provider_stream(provider)),
            ):
                # Interleave halves so drift on a noisy machine hits both sides alike.
                b1, b2 = await measure(label, bare)
                o1, o2 = await measure(label, ours)
                b3, b4 = await measure(label, bare)
                o3, o4 = await measure(label, ours)
                for metric, b, o in (
                    ("first byte/token", b1 + b3, o1 + o3),
                    ("total", b2 + b4, o2 + o4),
                ):
                    base, mine = p50_ms(b), p50_ms(o)
                    print(
                        f"{label:<8} {metric:<16} {base:>10.3f}ms {mine:>10.3f}ms "
                        f"{mine - base:>+10.3f}ms {mine / base:>11.2f}x"
                    )
            await http.close()
        finally:
            await session.close()
        print("\ngoal: under +0.5 ms added at p50")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
