"""The one shared HTTP client behind every provider (``promptready.http1``): pooled connections,
bounded waits, proxies from the environment, redirects never followed."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from promptready import __version__

if TYPE_CHECKING:
    from promptready import http1

USER_AGENT = f"PromptReady/{__version__}"


@dataclass(frozen=True)
class Timeouts:
    """How long to wait; a stream may run long but must never go quiet for long."""

    connect_s: float = 10.0
    idle_s: float = 60.0  # until the response headers, and between two reads of the body
    total_s: float = 600.0


def preload() -> threading.Thread:
    """Import the client and build its TLS context (the system's CAs) on a daemon thread, so
    neither start-up nor the first https request waits for them; a request that comes first
    waits on Python's import lock, as it would have imported the client anyway."""
    thread = threading.Thread(target=_warm, name="http-preload", daemon=True)
    thread.start()
    return thread


def _warm() -> None:
    from promptready.http1 import default_tls

    default_tls()


class HttpClient:
    """Owns one ``http1.Client`` per event loop that uses it (a connection belongs to one
    loop), made on first use.

    ``pool_size`` bounds the connections to each upstream (host and port), not all of them
    together: with every connection to one hung provider busy, a call to another still gets one.
    """

    def __init__(self, timeouts: Timeouts | None = None, pool_size: int = 100) -> None:
        self.timeouts = timeouts or Timeouts()
        self._pool_size = pool_size
        self._clients: http1.LoopClient | None = None

    def client(self) -> http1.Client:
        """The shared client of the running loop (imported on first use: the desktop's idle
        port does not load it)."""
        return (self._clients or self._start()).get()

    def _start(self) -> http1.LoopClient:
        from promptready import http1

        t = self.timeouts
        self._clients = http1.LoopClient(
            lambda: http1.Client(t.connect_s, t.idle_s, t.total_s, self._pool_size, USER_AGENT)
        )
        return self._clients

    async def close(self) -> None:
        """Close the client's idle connections; the next call makes a new client."""
        if self._clients is not None:
            await self._clients.close()
