"""The keep-alive connections to one origin: at most ``size`` open at once (busy, idle or
connecting), idle ones reused most recent first (the least likely to have been closed by the
server's own idle timeout), callers beyond ``size`` served first come, first served.

One pool per origin is what keeps one hung provider from starving calls to another.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from promptready.http1.connection import Connection

Opener = Callable[["Pool"], Awaitable[Connection]]


class Pool:
    """Connections to one origin (or, for plain http through a proxy, to that proxy)."""

    def __init__(self, size: int, opener: Opener) -> None:
        if size < 1:
            raise ValueError("pool_size must be at least 1")
        self._size = size
        self._opener = opener
        self._open = 0  # slots taken: connections counted, plus connects under way
        self._idle: list[Connection] = []
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()

    @property
    def open(self) -> int:
        """Connections this pool holds or is opening."""
        return self._open

    @property
    def idle(self) -> int:
        """Open connections waiting for a request."""
        return len(self._idle)

    async def acquire(self, deadline: float, fresh: bool = False) -> tuple[Connection, bool]:
        """A connection, and whether it served before; ``fresh`` skips idle ones. Waits for a
        slot until ``deadline`` (loop time) when all are taken."""
        while self._idle and not fresh:
            conn = self._idle.pop()
            if conn.alive:
                return conn, True
            self.discard(conn)
        if fresh and self._open >= self._size and self._idle:
            self._idle[0].abort()  # a slot for the new one: the oldest idle goes
        if self._open < self._size:
            self._open += 1
            return await self._new(), False
        waiter: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                handed = await waiter
        except BaseException:
            self._give_back(waiter)
            raise
        if handed is None:  # a freed slot, already counted for us
            return await self._new(), False
        return handed, True

    def put(self, conn: Connection) -> None:
        """Take back a connection whose exchange ended cleanly."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def discard(self, conn: Connection) -> None:
        """Forget a closed connection and free its slot (idempotent)."""
        if not conn.counted:
            return
        conn.counted = False
        if conn in self._idle:
            self._idle.remove(conn)
        self._free_slot()

    def close(self) -> None:
        """Close the idle connections (busy ones close when their caller lets go)."""
        for conn in list(self._idle):
            conn.abort()
        self._idle.clear()

    async def _new(self) -> Connection:
        try:
            conn = await self._opener(self)
        except BaseException:
            self._free_slot()
            raise
        conn.counted = True
        return conn

    def _free_slot(self) -> None:
        self._open -= 1
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._open += 1
                waiter.set_result(None)
                return

    def _give_back(self, waiter: asyncio.Future[Connection | None]) -> None:
        """A waiter gave up (cancelled, timed out): what was handed to it goes to the next."""
        if not waiter.done() or waiter.cancelled():
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            return
        handed = waiter.result()
        if handed is None:
            self._free_slot()
        else:
            self.put(handed)
