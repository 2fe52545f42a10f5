"""One client per running event loop: a connection belongs to the loop that opened it, so an
object used from a second loop (a test's, a thread's) needs a client of its own there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from promptready.http1.client import Client


class LoopClient:
    """The client of the running loop, made by ``make`` on its first use there.

    When a new loop takes over, the previous loop's client is let go: its idle connections are
    closed on that loop if it is still open (its own thread may be running it); a closed loop's
    sockets can only be reclaimed by the garbage collector.
    """

    def __init__(self, make: Callable[[], Client]) -> None:
        self._make = make
        self._client: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> Client:
        """The running loop's client."""
        loop = asyncio.get_running_loop()
        client = self._client
        if client is None or self._loop is not loop:
            self._let_go()
            client = self._client = self._make()
            self._loop = loop
        return client

    async def close(self) -> None:
        """Close the client's idle connections; the next ``get`` makes a new client."""
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.close()

    def _let_go(self) -> None:
        client, loop = self._client, self._loop
        self._client = self._loop = None
        if client is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(client.close_idle)
