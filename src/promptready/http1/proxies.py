"""Proxies from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, as ``urllib`` reads them)
and the CONNECT request that opens a tunnel through one.

Only ``http://`` proxies are spoken to; their userinfo becomes ``Proxy-Authorization: Basic``
and appears nowhere else (not in a repr, not in an error message).
"""

from __future__ import annotations

import base64
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Proxy:
    """One HTTP proxy: where it listens, and the credential to send it (if any)."""

    host: str
    port: int
    authorization: str | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """The proxy as error messages name it (no credentials)."""
        return f"proxy http://{self.host}:{self.port}"

    def auth_line(self) -> str:
        """The ``Proxy-Authorization`` header line, or nothing."""
        if self.authorization is None:
            return ""
        return f"Proxy-Authorization: {self.authorization}\r\n"

    def connect_request(self, host: str, port: int) -> bytes:
        """The CONNECT request asking for a tunnel to ``host:port``."""
        authority = f"{_bracketed(host)}:{port}"
        head = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{self.auth_line()}\r\n"
        return head.encode("latin-1")


def parse_proxy(url: str) -> Proxy:
    """A proxy URL (``http://user:pass@host:port``; a bare ``host:port`` means http)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http":
        raise ValueError(f"Only http:// proxies are supported, not {parts.scheme}://.")
    try:
        port = parts.port or 80
    except ValueError:
        raise ValueError("The proxy URL has a port that is not a number.") from None
    if not parts.hostname:
        raise ValueError("The proxy URL names no host.")
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    return Proxy(parts.hostname, port, authorization)


def env_proxy(scheme: str, host: str) -> str | None:
    """The proxy URL the environment sets for ``scheme`` (honouring NO_PROXY for ``host``)."""
    proxy = urllib.request.getproxies().get(scheme)
    if proxy and urllib.request.proxy_bypass(host):
        return None
    return proxy or None


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host
