"""Gateway overhead, from ONE run on loopback: direct to a fake upstream vs through
``promptready serve``, JSON and streaming (16 chunks + usage), concurrency 1 and 32.

Uses the shared measuring tools in ../shared/bench (fake_upstream.py, load.py), which print
p50/p99 latency, requests/s, time to first byte, the gateway's CPU ms per request, and ratios
against the direct target. Also prints the gateway's time to ready and idle RSS.

Run: ``.venv/bin/python bench/gateway_bench.py [-n 1500]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"
PROMPTREADY = [sys.executable, "-m", "promptready"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"nothing listened on {port}")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1500, help="requests per cell")
    args = parser.parse_args()
    if not (SHARED / "load.py").is_file():
        raise SystemExit(f"{SHARED} is missing: this bench needs the shared measuring tools")

    home = Path(tempfile.mkdtemp(prefix="pr-bench-"))
    env = {
        **os.environ,
        "PROMPTREADY_HOME": str(home),
        "XDG_DATA_HOME": str(home / "xdg"),
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
    }
    up_port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, str(SHARED / "fake_upstream.py"), "--port", str(up_port)], cwd=SHARED
    )
    gateway: subprocess.Popen[str] | None = None
    try:
        wait_for_port(up_port)
        direct = f"http://127.0.0.1:{up_port}/v1"
        subprocess.run(
            [*PROMPTREADY, "keys", "set", "bench", "--base-url", direct],
            input="sk-bench-0123456789abcdef\n",
            env=env,
            check=True,
            text=True,
            capture_output=True,
        )
        settings = home / "config" / "settings.toml"
        settings.write_text(settings.read_text().replace('provider = ""', 'provider = "bench"', 1))
        token = (
            subprocess.run(
                [*PROMPTREADY, "tokens", "create", "bench"],
                env=env,
                check=True,
                text=True,
                capture_output=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )

        started = time.perf_counter()
        gateway = subprocess.Popen(
            [*PROMPTREADY, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE, text=True
        )
        assert gateway.stdout is not None
        line = gateway.stdout.readline().strip()
        ready_s = time.perf_counter() - started
        if not line.startswith("listening on "):
            raise SystemExit(f"the gateway did not start: {line!r}")
        url = line.removeprefix("listening on ") + "/v1"
        time.sleep(0.5)
        print(f"gateway ready after {ready_s:.3f} s; idle RSS {rss_mib(gateway.pid):.1f} MiB")
        print("goal: <= 0.5 s to ready, <= 80 MiB idle RSS\n")
        subprocess.run(
            [
                sys.executable,
                str(SHARED / "load.py"),
                "--matrix",
                "-n",
                str(args.n),
                "-c",
                "1",
                "-c",
                "32",
                "--model",
                "bench/fake-gpt",
                "--target",
                f"direct={direct}",
                "--target",
                f"promptready={url}|Authorization: Bearer {token}",
                "--cpu-pid",
                f"promptready={gateway.pid}",
            ],
            check=True,
        )
        print(f"\ngateway RSS after load {rss_mib(gateway.pid):.1f} MiB")
        print(
            "goals: added p50 <= +0.5 ms (JSON and TTFB, c=1); >= 2,000 JSON req/s and "
            ">= 1,000 streams/s at c=32; <= 0.5 ms gateway CPU per JSON request"
        )
    finally:
        for proc in (gateway, upstream):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)


if __name__ == "__main__":
    main()
