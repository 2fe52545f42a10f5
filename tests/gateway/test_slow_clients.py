"""Slow, idle and greedy clients against the production HTTP stack, over raw sockets on 127.0.0.1:
each deadline closes what it should, a declared body is honoured, 100-continue waits for the size
check, and idle sockets cannot lock a real request out."""

from __future__ import annotations

import contextlib
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from promptready.gateway.app import GatewayConfig
from promptready.gateway.protocol import Limits
from tests.fakes.upstream import FakeUpstream
from tests.gateway.raw import Live, closed_by_server, connect, live_gateway, read_response

CHAT = orjson.dumps({"model": "fake-gpt", "messages": [{"role": "user", "content": "hi"}]})
QUICK = Limits(idle_s=1, head_s=0.5, body_s=0.5, max_connections=8)


@pytest.fixture
def live(upstream: FakeUpstream, tmp_path: Path) -> Iterator[Live]:
    config = GatewayConfig(max_body_bytes=1000)
    with live_gateway(upstream, tmp_path, config, QUICK) as running:
        yield running


def test_a_connection_that_sends_nothing_is_closed_after_the_idle_timeout(live: Live) -> None:
    with connect(live.port, timeout=4) as sock:
        assert closed_by_server(sock)


def test_a_head_sent_too_slowly_is_answered_408_and_closed(live: Live) -> None:
    with connect(live.port, timeout=4) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
        time.sleep(0.2)
        sock.sendall(b"b")  # still trickling: the deadline counts from the first byte
        response = read_response(sock)
        assert response is not None and response.status == 408
        assert response.error_code() == "request_timeout"
        assert closed_by_server(sock)


def test_a_body_shorter_than_its_content_length_times_out_with_408(
    live: Live, upstream: FakeUpstream
) -> None:
    raw = live.request(body=CHAT)
    with connect(live.port, timeout=4) as sock:
        sock.sendall(raw[:-5])  # the head promises five bytes more than ever arrive
        response = read_response(sock)
        assert response is not None and response.status == 408
        assert closed_by_server(sock)
    assert upstream.seen == []


def test_keep_alive_connections_are_closed_once_idle(live: Live) -> None:
    with connect(live.port, timeout=4) as sock:
        for _ in range(2):  # served twice on one connection, then left idle
            sock.sendall(live.request(body=CHAT))
            response = read_response(sock)
            assert response is not None and response.status == 200
        assert closed_by_server(sock)


def test_100_continue_is_not_granted_to_a_body_over_the_limit(live: Live) -> None:
    raw = live.request(headers=[("Expect", "100-continue")], body=b"")
    raw = raw.replace(b"Content-Length: 0", b"Content-Length: 5000")
    with connect(live.port, timeout=4) as sock:
        sock.sendall(raw)
        reply = sock.recv(65536)
        assert reply.startswith(b"HTTP/1.1 413 ")
        assert b"100 Continue" not in reply
        assert closed_by_server(sock)


def test_an_unsupported_expectation_is_417(live: Live) -> None:
    with connect(live.port) as sock:
        sock.sendall(live.request(headers=[("Expect", "teapot")], body=CHAT))
        response = read_response(sock)
        assert response is not None and response.status == 417


def test_at_the_connection_cap_the_longest_idle_connection_makes_room(live: Live) -> None:
    idle = [connect(live.port, timeout=3) for _ in range(QUICK.connections())]
    try:
        time.sleep(0.1)  # all accepted, oldest first
        with connect(live.port) as sock:
            sock.sendall(live.request(body=CHAT))
            response = read_response(sock)
            assert response is not None and response.status == 200
        assert closed_by_server(idle[0])
    finally:
        for sock in idle:
            sock.close()


@pytest.fixture
def small_fd_server() -> Iterator[tuple[int, str]]:
    """``promptready serve`` in a child limited to 256 file descriptors, as macOS is by default."""
    made = subprocess.run(
        [sys.executable, "-m", "promptready", "tokens", "create", "load"],
        capture_output=True,
        text=True,
        check=True,
    )
    token = made.stdout.strip().splitlines()[-1]
    command = 'ulimit -n 256 && exec "$0" -m promptready serve --port 0'
    proc = subprocess.Popen(
        ["/bin/sh", "-c", command, sys.executable],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on http://127.0.0.1:"), line
    try:
        yield int(line.rsplit(":", 1)[1]), token
    finally:
        proc.terminate()
        proc.communicate(timeout=40)


@pytest.mark.slow
def test_300_idle_and_50_slowloris_clients_do_not_lock_out_a_request(
    small_fd_server: tuple[int, str],
) -> None:
    port, token = small_fd_server
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1024:  # this process holds 350 attacking sockets
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    attackers: list[socket.socket] = []
    try:
        for _ in range(300):
            attackers.append(connect(port, timeout=2))
        for i in range(50):
            sock = connect(port, timeout=2)
            attackers.append(sock)
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-%d: " % i)
        for sock in attackers[300:]:  # a second trickle: still in the middle of a head
            with contextlib.suppress(OSError):  # already closed to make room
                sock.sendall(b"x")
        request = (
            f"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
        for _ in range(5):  # served well inside every deadline, each on a fresh connection
            with connect(port, timeout=2) as sock:
                sock.sendall(request)
                response = read_response(sock)
                assert response is not None and response.status == 200
    finally:
        for sock in attackers:
            sock.close()


def test_an_answer_before_a_held_back_body_ends_the_connection(live: Live) -> None:
    raw = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
    with connect(live.port, timeout=4) as sock:
        sock.sendall(raw + b"Content-Length: 40\r\n\r\n")  # no token: 401 before the body
        response = read_response(sock)
        assert response is not None and response.status == 401
        assert response.header("connection") == "close"
        assert closed_by_server(sock)


def test_100_continue_is_granted_within_the_limit_and_the_connection_kept(live: Live) -> None:
    head, _, body = live.request(headers=[("Expect", "100-continue")], body=CHAT).partition(
        b"\r\n\r\n"
    )
    with connect(live.port, timeout=4) as sock:
        sock.sendall(head + b"\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        first = read_response(sock)
        assert first is not None and first.status == 200 and first.header("connection") is None
        sock.sendall(live.request(body=CHAT))
        second = read_response(sock)
        assert second is not None and second.status == 200
