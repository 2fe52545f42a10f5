"""Run the proxy with uvicorn (httptools + uvloop): one process, or N workers on one socket.

The socket is bound here, before any worker starts, so ``--port 0`` picks one free port that every
worker shares (the kernel spreads connections between them). ``listening on http://HOST:PORT`` is
printed once every worker has started, and only then.
"""

from __future__ import annotations

import multiprocessing
import queue
import signal
import socket
import sys
from collections.abc import Callable
from multiprocessing.queues import Queue
from types import FrameType

import uvicorn

from promptready.cloud.coalesce import CoalescingHttpToolsProtocol
from promptready.errors import ConfigError

APP_FACTORY = "promptready.cloud.app:create_app_from_env"


class _Server(uvicorn.Server):
    """A uvicorn server that reports once it is really listening."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            self._on_ready()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0: a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"Could not listen on {host}:{port} ({exc.strerror}).") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The base URL a client uses for ``sock``."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _uvicorn_config() -> uvicorn.Config:
    return uvicorn.Config(
        APP_FACTORY,
        factory=True,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http=CoalescingHttpToolsProtocol,  # httptools, one socket write per loop turn
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        proxy_headers=False,  # the client address is what the socket says
        timeout_graceful_shutdown=30,
    )


def _announce(url: str) -> None:
    print(f"listening on {url}", flush=True)


def serve(host: str, port: int, workers: int) -> None:
    """Serve until SIGINT or SIGTERM."""
    sock = bind(host, port)
    url = url_of(sock)
    if workers == 1:
        _Server(_uvicorn_config(), lambda: _announce(url)).run(sockets=[sock])
        return
    _supervise(sock, url, workers)


def _worker(sock: socket.socket, ready: Queue[int]) -> None:
    """One worker process: the same app on the shared socket."""
    server = _Server(_uvicorn_config(), lambda: ready.put(1))
    server.run(sockets=[sock])


def _supervise(sock: socket.socket, url: str, workers: int) -> None:
    """Start ``workers`` processes, announce once all listen, stop them all on a signal."""
    context = multiprocessing.get_context("spawn")
    ready: Queue[int] = context.Queue()
    processes = [context.Process(target=_worker, args=(sock, ready)) for _ in range(workers)]
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.start()
    started = 0
    while started < workers and not stopping:
        try:
            started += ready.get(timeout=0.5)
        except queue.Empty:  # check the workers are still alive
            if any(p.exitcode is not None for p in processes):
                stop(signal.SIGTERM, None)
                for process in processes:
                    process.join()
                raise SystemExit(1) from None
    if not stopping:
        _announce(url)
    for process in processes:
        process.join()
    sock.close()
