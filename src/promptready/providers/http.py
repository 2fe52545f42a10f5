"""The one shared HTTP client behind every provider (``promptready.http1``): pooled connections,
bounded waits, proxies from the environment, redirects never followed."""

from __future__ import annotations

import asyncio
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
    """Owns one ``http1.Client``, made on first use by the event loop that uses it (a
    connection belongs to one loop: another loop gets a client of its own).

    ``pool_size`` bounds the connections to each upstream (host and port), not all of them
    together: with every connection to one hung provider busy, a call to another still gets one.
    """

    def __init__(self, timeouts: Timeouts | None = None, pool_size: int = 100) -> None:
        self.timeouts = timeouts or Timeouts()
        self._pool_size = pool_size
        self._client: http1.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def client(self) -> http1.Client:
        """The shared client of the running loop (imported on first use: the desktop's idle
        port does not load it)."""
        loop = asyncio.get_running_loop()
        client = self._client
        if client is None or self._loop is not loop:
            from promptready import http1

            t = self.timeouts
            client = http1.Client(t.connect_s, t.idle_s, t.total_s, self._pool_size, USER_AGENT)
            self._client, self._loop = client, loop
        return client

    async def close(self) -> None:
        """Close the client's idle connections; the next call makes a new client."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()
