"""Run the gateway with uvicorn (httptools + uvloop) on loopback sockets we bind ourselves, with
the deadlines and connection cap of ``protocol.py``."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from typing import Any

from promptready.errors import ConfigError
from promptready.gateway.protocol import Limits, guarded_protocol
from promptready.gateway.security import is_loopback_bind
from promptready.gateway.uvicorn_core import Config, Server


class _Server(Server):
    """A uvicorn server that reports once it is really listening."""

    def __init__(self, config: Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            self._on_ready()


def bind_sockets(host: str, port: int, allow_remote: bool) -> list[socket.socket]:
    """Listening sockets: 127.0.0.1 and ::1 (same port) by default; another host only if allowed."""
    if not is_loopback_bind(host) and not allow_remote:
        raise ConfigError(
            f"Refusing to listen on {host}: the local API would be reachable from other machines. "
            "Use --allow-remote only on a network you trust; every request still needs a token."
        )
    hosts = ["127.0.0.1", "::1"] if host in ("127.0.0.1", "localhost") else [host]
    sockets: list[socket.socket] = []
    for address in hosts:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            sock.bind((address, port))
        except OSError as exc:
            sock.close()
            if sockets and family == socket.AF_INET6:
                continue  # no IPv6 loopback on this machine: IPv4 alone is fine
            for opened in sockets:
                opened.close()
            raise ConfigError(f"Could not listen on {address}:{port} ({exc.strerror}).") from None
        sock.listen(2048)
        sock.setblocking(False)
        sockets.append(sock)
        port = sock.getsockname()[1]  # --port 0: the IPv6 socket takes the port IPv4 got
    return sockets


def listening_url(sockets: list[socket.socket]) -> str:
    """The base URL of the first listening socket."""
    host, port = sockets[0].getsockname()[:2]
    return f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"


def make_server(
    app: Any,
    sockets: list[socket.socket],
    on_ready: Callable[[str], None],
    limits: Limits | None = None,
) -> Server:
    """A uvicorn server for ``app`` on ``sockets``; ``on_ready(url)`` runs once it listens."""
    loop = "uvloop" if sys.platform != "win32" else "asyncio"
    limits = (limits or Limits()).resolved()
    config = Config(
        app,
        loop=loop,
        http=guarded_protocol(limits),  # httptools, with deadlines and a connection cap
        timeout_keep_alive=limits.idle_s,
        # Over the cap only when every connection is busy: uvicorn's own 503 then.
        limit_concurrency=limits.connections() + 1,
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        # Never trust X-Forwarded-* headers: the client address and scheme are what they are.
        proxy_headers=False,
        timeout_graceful_shutdown=30,
    )
    url = listening_url(sockets)
    return _Server(config, lambda: on_ready(url))


def serve(app: Any, sockets: list[socket.socket], on_ready: Callable[[str], None]) -> None:
    """Serve until SIGINT/SIGTERM; in-flight requests finish before it returns."""
    make_server(app, sockets, on_ready).run(sockets=sockets)
