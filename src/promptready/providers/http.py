"""The one shared aiohttp session behind every provider: pooled connections, bounded waits."""

from __future__ import annotations

import asyncio
import importlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from promptready import __version__

if TYPE_CHECKING:
    import aiohttp

USER_AGENT = f"PromptReady/{__version__}"
_PROXY_MEMO = 256


@dataclass(frozen=True)
class Timeouts:
    """How long to wait; a stream may run long but must never go quiet for long."""

    connect_s: float = 10.0
    idle_s: float = 60.0  # until the response headers, and between two reads of the body
    total_s: float = 600.0


def preload() -> threading.Thread:
    """Import aiohttp (its default TLS context is built by the import) on a daemon thread, so
    neither start-up nor the first request waits for it (about 100 ms); a request that comes
    first waits on Python's import lock, as it would have imported it anyway."""
    thread = threading.Thread(target=_import_aiohttp, name="aiohttp-preload", daemon=True)
    thread.start()
    return thread


def _import_aiohttp() -> None:
    importlib.import_module("aiohttp")


class HttpClient:
    """Owns one ``aiohttp.ClientSession``, created lazily inside the loop that uses it.

    ``pool_size`` bounds the connections to each upstream (host and port), not all of them
    together: with every connection to one hung provider busy, a call to another still gets one.
    """

    def __init__(self, timeouts: Timeouts | None = None, pool_size: int = 100) -> None:
        self.timeouts = timeouts or Timeouts()
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[str, str | None] = {}

    async def session(self) -> aiohttp.ClientSession:
        """The shared session; a new one if the old one was closed or belongs to another loop."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            import aiohttp

            t = self.timeouts
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=0, limit_per_host=self._pool_size, ttl_dns_cache=300
                ),
                timeout=aiohttp.ClientTimeout(
                    total=t.total_s, sock_connect=t.connect_s, sock_read=t.idle_s
                ),
                headers={"User-Agent": USER_AGENT},
                # No cookies: one provider's cookie must not ride along on every app's calls,
                # and an empty jar is still filtered and updated on each request.
                cookie_jar=aiohttp.DummyCookieJar(),
                # trust_env=True re-reads proxy variables and ~/.netrc on every request (+1.2 ms
                # measured); proxies are resolved once per upstream by proxy_for() instead.
                trust_env=False,
                auto_decompress=True,
            )
            self._loop = loop
        return self._session

    def proxy_for(self, url: str) -> str | None:
        """The HTTP(S)_PROXY that applies to ``url`` (honouring NO_PROXY), read once per URL:
        a provider calls a handful of URLs, and the hit is one dict lookup (no parsing)."""
        if url in self._proxies:
            return self._proxies[url]
        import urllib.request
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        proxy = urllib.request.getproxies().get(parts.scheme)
        if proxy and parts.hostname and urllib.request.proxy_bypass(parts.hostname):
            proxy = None
        if len(self._proxies) >= _PROXY_MEMO:  # bounded: a URL per provider and path
            self._proxies.clear()
        self._proxies[url] = proxy
        return proxy

    async def close(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
