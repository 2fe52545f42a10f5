"""A uvicorn server for tests that stops as soon as it is told to.

A plain ``uvicorn.Server`` notices ``should_exit`` on its next 0.1 s tick and then sleeps another
flat 0.1 s for connections to close, so every loopback server a test starts cost about 0.15 s to
stop; the cloud tests start two per test (the proxy and the fake upstream). This one is woken
from the test's thread and waits for connections only while some are still open (at most the
same 0.1 s). What happens on stop is otherwise uvicorn's: stop accepting, ask each connection to
shut down, cancel what is still running (``timeout_graceful_shutdown=0``), then the app's lifespan
shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

import uvicorn

# uvicorn's own wait for connections to react to shutdown().
CONNECTIONS_CLOSE_S = 0.1
TICK_S = 0.1


class QuickServer(uvicorn.Server):
    """``uvicorn.Server`` with ``ready`` (set once startup is over, started or not) and
    ``stop()`` (callable from any thread; returns at once, the server thread then ends)."""

    def __init__(self, config: uvicorn.Config) -> None:
        if config.timeout_graceful_shutdown != 0:
            raise ValueError("QuickServer cancels what still runs at stop: graceful shutdown 0")
        super().__init__(config)
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()

    def stop(self) -> None:
        """Ask the server to exit now (from the test's thread)."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # its loop has already closed
                loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        # uvicorn's loop (on_tick keeps the Date header fresh and reads should_exit), but the
        # wait between ticks ends early when stop() wakes it.
        assert self._wake is not None
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_S)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        deadline = asyncio.get_running_loop().time() + CONNECTIONS_CLOSE_S
        while self.server_state.connections and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.005)
        for task in self.server_state.tasks:
            task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()
