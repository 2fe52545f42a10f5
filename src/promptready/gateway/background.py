"""The gateway in a daemon thread with its own event loop, for the desktop app.

The thread owns everything the gateway touches (its loop, HTTP session and ledger writer), so the
Qt thread never blocks on it and its loop never shares a policy with qasync. ``stop`` lets
requests in flight finish and runs the lifespan shutdown, which flushes the ledger writer.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from promptready.engine import Engine
from promptready.errors import ConfigError

if TYPE_CHECKING:
    from promptready.gateway.uvicorn_core import Server

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 35.0  # uvicorn's graceful shutdown is 30 s; then the lifespan flush


class BackgroundGateway:
    """Start the loopback gateway on a port (0 picks one) and stop it cleanly."""

    def __init__(self, port: int, engine: Engine | None = None, host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host
        self._engine = engine
        self._thread: threading.Thread | None = None
        self._server: Server | None = None
        self.url: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout_s: float = START_TIMEOUT_S) -> str:
        """Bind, serve in the background and return the base URL once it is listening."""
        if self.running and self.url is not None:
            return self.url
        from promptready.engine import open_engine
        from promptready.gateway.assemble import build_gateway
        from promptready.gateway.server import bind_sockets, make_server

        engine = self._engine or open_engine("gateway")[0]
        sockets = bind_sockets(self.host, self.port, allow_remote=False)
        try:
            # The desktop's port: the HTTP client and its TLS context are made by the first call
            # that needs them, not at start-up (see bench/startup_bench.py).
            app = build_gateway(engine, port=sockets[0].getsockname()[1], warm_http=False)
        except BaseException:
            for sock in sockets:
                sock.close()
            raise
        ready = threading.Event()
        found: list[str] = []

        def on_ready(url: str) -> None:
            found.append(url)
            ready.set()

        server = make_server(app, sockets, on_ready)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": sockets}, name="gateway", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        while not ready.wait(0.02):
            timeout_s -= 0.02
            if not thread.is_alive() or timeout_s <= 0:
                self.stop()
                for sock in sockets:
                    sock.close()
                raise ConfigError(
                    f"The local API could not start on port {self.port}; "
                    "choose another port in Settings."
                )
        self.url = found[0]
        return self.url

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop accepting, let requests in flight finish, flush the ledger; safe to call twice."""
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout_s)
        self._server = self._thread = None
        self.url = None
