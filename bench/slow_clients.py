"""Idle and slowloris clients against the gateway, from ONE run on 127.0.0.1: uvicorn as the
gateway ran it before (``http="httptools"``, no deadlines, no cap) vs the guarded protocol of
``gateway/protocol.py``, each in a child process limited to 256 file descriptors (macOS's
default).

For each: latency of a fresh-connection ``GET /v1/models`` when quiet; the same with 300 idle
connections and 50 slowloris clients (a header byte now and then) connected, and how many of
those requests were answered at all; and the per-request cost on one keep-alive connection
(what the guard adds to every request). Prints ratios guarded / plain.

Run: ``PYTHONPATH=src .venv/bin/python bench/slow_clients.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IDLE, SLOWLORIS, PROBES, KEEP_ALIVE, ROUNDS = 300, 50, 50, 2000, 5
MODES = ("plain", "guarded")
TIMEOUT_S = 2.0


def serve(mode: str) -> None:
    """Child: the real gateway (no upstream needed for /v1/models) on a free loopback port."""
    import uvicorn

    from promptready.engine import Engine
    from promptready.gateway.assemble import build_gateway
    from promptready.gateway.server import bind_sockets, make_server

    app = build_gateway(Engine(source="gateway"))
    _, token = app.apps.create("bench")
    sockets = bind_sockets("127.0.0.1", 0, allow_remote=False)
    port = sockets[0].getsockname()[1]
    if mode == "guarded":
        server = make_server(app, sockets, lambda _url: print(port, token, flush=True))
    else:
        config = uvicorn.Config(
            app, loop="uvloop", http="httptools", lifespan="on", log_level="critical"
        )
        server = uvicorn.Server(config)
        print(port, token, flush=True)
    server.run(sockets=sockets)


def start(mode: str, home: str) -> tuple[subprocess.Popen[str], int, str]:
    command = f'ulimit -n 256 && exec "$0" {__file__} --serve {mode}'
    env = {**os.environ, "PROMPTREADY_HOME": str(Path(home) / mode)}
    proc = subprocess.Popen(
        ["/bin/sh", "-c", command, sys.executable], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    port, token = proc.stdout.readline().split()
    time.sleep(0.3)  # the plain server prints before it listens
    return proc, int(port), token


def one_request(port: int, request: bytes) -> float | None:
    """Seconds to a complete answer on a fresh connection, or None if none came."""
    began = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as sock:
            sock.sendall(request)
            reply = b""
            while b"\r\n\r\n" not in reply:
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                reply += chunk
            if not reply.startswith(b"HTTP/1.1 200"):
                return None
    except OSError:
        return None
    return time.perf_counter() - began


def keep_alive_cost(port: int, request: bytes) -> float:
    """Seconds per request on one keep-alive connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as sock:
        began = time.perf_counter()
        for _ in range(KEEP_ALIVE):
            sock.sendall(request)
            reply = b""
            while not (b"\r\n\r\n" in reply and reply.endswith(b"]}")):
                reply += sock.recv(65536)
        return (time.perf_counter() - began) / KEEP_ALIVE


def attack(port: int) -> list[socket.socket]:
    opened = []
    for i in range(IDLE + SLOWLORIS):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
        except OSError:
            continue
        if i >= IDLE:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-%d: " % i)
        opened.append(sock)
    return opened


def under_attack(port: int, request: bytes) -> list[float | None]:
    """Fresh-connection requests while the idle and slowloris connections are open."""
    attackers = attack(port)
    try:
        found = []
        for _ in range(PROBES):
            for sock in attackers[IDLE:]:  # slowloris: one more header byte
                with contextlib.suppress(OSError):
                    sock.send(b"x")
            found.append(one_request(port, request))
        return found
    finally:
        for sock in attackers:
            sock.close()


def measure(home: str) -> dict[str, dict[str, float]]:
    """Both servers up at once, measured in alternation: the machine's load hits both alike."""
    servers = {mode: start(mode, home) for mode in MODES}
    requests = {
        mode: (
            f"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
        for mode, (_, port, token) in servers.items()
    }
    quiet: dict[str, list[float]] = {mode: [] for mode in MODES}
    cost: dict[str, list[float]] = {mode: [] for mode in MODES}
    try:
        for _ in range(ROUNDS):
            for mode, (_, port, _) in servers.items():
                found = (one_request(port, requests[mode]) for _ in range(PROBES // ROUNDS))
                quiet[mode] += [t for t in found if t is not None]
                cost[mode].append(keep_alive_cost(port, requests[mode]))
        attacked = {
            mode: under_attack(port, requests[mode]) for mode, (_, port, _) in servers.items()
        }
    finally:
        for proc, _, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=40)
    results = {}
    for mode in MODES:
        answered = [t for t in attacked[mode] if t is not None]
        results[mode] = {
            "quiet p50 ms": statistics.median(quiet[mode]) * 1000,
            "attacked answered": len(answered),
            "attacked p50 ms": statistics.median(answered) * 1000 if answered else float("nan"),
            "attacked max ms": max(answered) * 1000 if answered else float("nan"),
            "keep-alive us/request": min(cost[mode]) * 1e6,  # best round: least disturbed
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", choices=("plain", "guarded"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    home = tempfile.mkdtemp(prefix="pr-slow-")
    results = measure(home)
    plain, guarded = results["plain"], results["guarded"]
    print(f"{IDLE} idle + {SLOWLORIS} slowloris connections, {PROBES} probes, fd limit 256")
    print(f"{'':<24}{'plain':>10}{'guarded':>10}{'ratio':>8}")
    for name in plain:
        ratio = guarded[name] / plain[name] if plain[name] else float("nan")
        print(f"{name:<24}{plain[name]:>10.2f}{guarded[name]:>10.2f}{ratio:>8.2f}")


if __name__ == "__main__":
    main()
