"""The production HTTP stack (``server.make_server``: uvicorn, the guarded protocol) on a real
loopback port in a thread, and a raw-socket client that sends bytes exactly as written: an HTTP
library would normalise the Host header, the target and the framing these tests are about."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from promptready.gateway.protocol import Limits
from promptready.gateway.server import bind_sockets, make_server


@dataclass(frozen=True)
class RawResponse:
    """One parsed response: status, lower-cased headers (repeats kept), body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        found = [v for n, v in self.headers if n == name]
        return found[-1] if found else None

    def error_code(self) -> str:
        code: str = orjson.loads(self.body)["error"]["code"]
        return code


@contextmanager
def production_server(app: Any, limits: Limits | None = None) -> Iterator[int]:
    """Serve ``app`` as ``promptready serve`` does, on 127.0.0.1 only; yields the port."""
    sockets = bind_sockets("127.0.0.1", 0, allow_remote=False)  # and ::1, on the same port
    ready = threading.Event()
    server = make_server(app, sockets, lambda _url: ready.set(), limits)
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the gateway did not start")
    try:
        yield sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=40)
        for sock in sockets:
            sock.close()


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    """A TCP connection to the server."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_response(sock: socket.socket) -> RawResponse | None:
    """The next response on ``sock`` (interim 1xx answers skipped), or None if it was closed."""
    buffer = b""
    while True:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        if status >= 200:
            break
    headers = [
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in lines[1:])
    ]
    length = int(dict(headers).get("content-length", "0"))
    while len(buffer) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buffer += chunk
    return RawResponse(status, headers, buffer[:length])


def exchange(port: int, raw: bytes, timeout: float = 5.0) -> RawResponse | None:
    """Send ``raw`` on a fresh connection and read one response."""
    with connect(port, timeout) as sock:
        sock.sendall(raw)
        return read_response(sock)


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed ``sock`` (reads end-of-file or a reset)."""
    try:
        while True:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@dataclass(frozen=True)
class Live:
    """A production-stack gateway: its port and an app token."""

    port: int
    token: str

    def request(
        self,
        method: str = "POST",
        target: str = "/v1/chat/completions",
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        host: str | None = "default",
    ) -> bytes:
        """Raw request bytes: the token, a Host naming the server (unless given), the body."""
        lines = [f"{method} {target} HTTP/1.1"]
        if host == "default":
            lines.append(f"Host: 127.0.0.1:{self.port}")
        elif host is not None:
            lines.append(f"Host: {host}")
        lines.append(f"Authorization: Bearer {self.token}")
        lines += [f"{name}: {value}" for name, value in headers or []]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@contextmanager
def live_gateway(
    upstream: Any, home: Any, config: Any = None, limits: Limits | None = None
) -> Iterator[Live]:
    """The test gateway (``conftest.make_gateway``) served by the production stack."""
    from tests.gateway.conftest import make_gateway

    app = make_gateway(upstream, home, config)
    _, token = app.apps.create("raw")
    with production_server(app, limits) as port:
        yield Live(port, token)
