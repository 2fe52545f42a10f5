"""The gateway's CPU per request as instructions (valgrind callgrind): a count that does not move
with the machine's load, unlike CPU seconds, so a cut of a few per cent can be seen while other
work runs. JSON and streaming chat completions at concurrency 1 through ``promptready serve`` as
it is now, (``--before REF``) as it was at a git ref, and (``--bare``) ``bare_relay.py``, each
against the same fake upstream as ``gateway_bench.py``.

Each server starts under callgrind; after a warm-up its counters are zeroed, ``-n`` requests are
sent one at a time, and the dump's total divided by ``-n`` is printed (user-space instructions of
all the server's threads, the ledger writer's included; the kernel's work is not counted). The
same code measured twice agrees within about 2 %: timers firing during the slower run move it.

Run: ``.venv/bin/python bench/gateway_instructions.py [-n 100] [--before main] [--bare]``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import orjson

import gateway_bench as gb

CALLGRIND = ["valgrind", "-q", "--tool=callgrind", "--callgrind-out-file={out}.%p"]
_TOTAL = re.compile(rb"^(?:summary|totals): (\d+)", re.M)


def send(url: str, token: str, stream: bool, count: int) -> None:
    """``count`` chat completions, one at a time on one keep-alive connection."""
    address = url.split("//", 1)[1].split("/", 1)[0]
    conn = http.client.HTTPConnection(address)
    body = orjson.dumps(
        {
            "model": "bench/fake-gpt",
            "messages": [{"role": "user", "content": "hello there"}],
            "stream": stream,
        }
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for _ in range(count):
        conn.request("POST", "/v1/chat/completions", body, headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{url} answered {response.status}")
    conn.close()


def counted(pid: int, out: Path, run: Callable[[], None]) -> int:
    """Instructions ``pid`` ran during ``run()`` (counters zeroed before, dumped after)."""
    before = set(out.parent.glob(f"{out.name}.{pid}*"))
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)
    run()
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    dumps = set(out.parent.glob(f"{out.name}.{pid}*")) - before
    return sum(
        int(found.group(1))
        for dump in dumps
        if (found := _TOTAL.search(dump.read_bytes())) is not None
    )


def measure(name: str, command: list[str], env: dict[str, str], token: str, n: int) -> None:
    """Start one server under callgrind and print its instructions per request."""
    scratch = Path(tempfile.mkdtemp(prefix="pr-callgrind-"))
    out = scratch / name
    prefix = [part.format(out=out) for part in CALLGRIND]
    server = subprocess.Popen([*prefix, *command], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"{name} did not start: {line!r}")
        url = line.removeprefix("listening on ")
        for stream in (False, True):
            send(url, token, stream, 30)  # warm: imports, pools, memos
            total = counted(server.pid, out, partial(send, url, token, stream, n))
            kind = "stream" if stream else "json  "
            print(f"{name:>7} {kind} c=1: {total / n / 1000:,.0f}k instructions per request")
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=100, help="requests per cell")
    parser.add_argument("--before", help="also measure the gateway at this git ref")
    parser.add_argument("--bare", action="store_true", help="also measure a bare relay")
    args = parser.parse_args()
    port = gb.free_port()
    upstream = subprocess.Popen(
        [sys.executable, str(gb.SHARED / "fake_upstream.py"), "--port", str(port)], cwd=gb.SHARED
    )
    try:
        gb.wait_for_port(port)
        direct = f"http://127.0.0.1:{port}/v1"
        if args.bare:
            relay = [sys.executable, str(gb.ROOT / "bench" / "bare_relay.py")]
            relay += ["--upstream", direct, "--port", str(gb.free_port())]
            measure("bare", relay, dict(os.environ), "unused", args.n)
        sources = [("after", gb.ROOT / "src")]
        if args.before:
            sources.insert(0, ("before", gb.export_src(args.before)))
        for name, src in sources:
            _, env, token = gb.setup_home(direct)
            serve = [*gb.PROMPTREADY, "serve", "--port", "0"]
            measure(name, serve, {**env, "PYTHONPATH": str(src)}, token, args.n)
    finally:
        upstream.terminate()
        upstream.wait(timeout=30)


if __name__ == "__main__":
    main()
