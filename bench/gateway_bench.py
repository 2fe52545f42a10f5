"""Gateway overhead, from ONE run on loopback: direct to a fake upstream vs through
``promptready serve`` as it is now and (``--before REF``) as it was at a git ref, JSON and
streaming (16 chunks + usage), concurrency 1 and 32. The ledger is durable in both (``after``
commits each row before the answer's last byte).

Uses the shared measuring tools in ../shared/bench (fake_upstream.py, load.py), which print
p50/p99 latency, requests/s, time to first byte, each gateway's CPU ms per request, and ratios
against the direct target. Also prints each gateway's time to ready and idle RSS, and checks
that every answered request has its ledger row.

``--bare`` also measures ``bare_relay.py`` (the same HTTP server and client with nothing of
ours in between), so the gap to ``direct`` splits into what the stack costs and what we add.

Run: ``.venv/bin/python bench/gateway_bench.py [-n 1500] [--before fef8782] [--bare]``.
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
# The shared measuring tools sit beside the checkout (or beside its worktrees folder).
SHARED = next(
    (p / "shared" / "bench" for p in ROOT.parents if (p / "shared" / "bench").is_dir()),
    ROOT.parent / "shared" / "bench",
)
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


def setup_home(direct: str) -> tuple[Path, dict[str, str], str]:
    """A fresh data folder with a key for the fake upstream and an app token."""
    home = Path(tempfile.mkdtemp(prefix="pr-bench-"))
    env = {
        **os.environ,
        "PROMPTREADY_HOME": str(home),
        "XDG_DATA_HOME": str(home / "xdg"),
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
    }
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
    return home, env, token


def start_gateway(env: dict[str, str], src: Path) -> tuple[subprocess.Popen[str], str, float]:
    """``promptready serve`` from ``src``: the process, its base URL and seconds to ready."""
    started = time.perf_counter()
    gateway = subprocess.Popen(
        [*PROMPTREADY, "serve", "--port", "0"],
        env={**env, "PYTHONPATH": str(src)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert gateway.stdout is not None
    line = gateway.stdout.readline().strip()
    ready_s = time.perf_counter() - started
    if not line.startswith("listening on "):
        raise SystemExit(f"the gateway did not start: {line!r}")
    return gateway, line.removeprefix("listening on ") + "/v1", ready_s


def start_bare(direct: str) -> tuple[subprocess.Popen[str], str]:
    """``bare_relay.py`` in front of ``direct``: the process and its base URL."""
    relay = str(ROOT / "bench" / "bare_relay.py")
    bare = subprocess.Popen(
        [sys.executable, relay, "--upstream", direct, "--port", str(free_port())],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert bare.stdout is not None
    line = bare.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise SystemExit(f"the bare relay did not start: {line!r}")
    return bare, line.removeprefix("listening on ") + "/v1"


def export_src(ref: str) -> Path:
    """The ``src`` tree (and its resources) of git ``ref``, extracted to a temporary folder."""
    where = Path(tempfile.mkdtemp(prefix="pr-before-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "src", "resources"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return where / "src"


def ledger_rows(home: Path) -> int:
    import sqlite3

    files = list(home.rglob("ledger*.sqlite3")) + list(home.rglob("ledger.db"))
    with sqlite3.connect(files[0]) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1500, help="requests per cell")
    parser.add_argument("--before", help="also measure the gateway at this git ref")
    parser.add_argument("--bare", action="store_true", help="also measure a bare relay")
    args = parser.parse_args()
    if not (SHARED / "load.py").is_file():
        raise SystemExit(f"{SHARED} is missing: this bench needs the shared measuring tools")

    up_port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, str(SHARED / "fake_upstream.py"), "--port", str(up_port)], cwd=SHARED
    )
    gateways: list[tuple[str, subprocess.Popen[str], str, str, Path]] = []
    bare: subprocess.Popen[str] | None = None
    try:
        wait_for_port(up_port)
        direct = f"http://127.0.0.1:{up_port}/v1"
        targets = [f"direct={direct}"]
        cpu = []
        if args.bare:
            bare, bare_url = start_bare(direct)
            targets.append(f"bare={bare_url}")
            cpu.append(f"bare={bare.pid}")
        sources = [("after", ROOT / "src")]
        if args.before:
            sources.insert(0, ("before", export_src(args.before)))
        for name, src in sources:
            home, env, token = setup_home(direct)
            gateway, url, ready_s = start_gateway(env, src)
            gateways.append((name, gateway, url, token, home))
            time.sleep(0.5)
            print(f"{name}: ready after {ready_s:.3f} s; idle RSS {rss_mib(gateway.pid):.1f} MiB")
        print("goal: <= 0.5 s to ready, <= 80 MiB idle RSS\n")
        for name, gateway, url, token, _ in gateways:
            targets.append(f"{name}={url}|Authorization: Bearer {token}")
            cpu.append(f"{name}={gateway.pid}")
        command = [sys.executable, str(SHARED / "load.py"), "--matrix", "-n", str(args.n)]
        command += ["-c", "1", "-c", "32", "--model", "bench/fake-gpt"]
        for target in targets:
            command += ["--target", target]
        for pid in cpu:
            command += ["--cpu-pid", pid]
        subprocess.run(command, check=True)
        for name, gateway, _, _, home in gateways:
            print(f"\n{name}: RSS after load {rss_mib(gateway.pid):.1f} MiB", end="")
            if name == "after":  # rows are committed before each answer's last byte
                print(f"; ledger rows {ledger_rows(home)}", end="")
        print(
            "\ngoals: added p50 <= +0.5 ms (JSON and TTFB, c=1); >= 2,000 JSON req/s and "
            ">= 1,500 streams/s at c=32; <= 0.5 ms gateway CPU per JSON request"
        )
    finally:
        for proc in [*(g[1] for g in gateways), *([bare] if bare else [])]:
            proc.terminate()
            proc.wait(timeout=30)
        upstream.terminate()
        upstream.wait(timeout=30)


if __name__ == "__main__":
    main()
