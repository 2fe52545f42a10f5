"""Where one URL's requests go and the bytes that ask for it, worked out once per URL (the
client memoizes routes): origin, TLS, proxy, and the request line and fixed headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from promptready.http1.proxies import Proxy, env_proxy, parse_proxy

Headers = Mapping[str, str] | Sequence[tuple[str, str]]
PoolKey = tuple[str, str, int, Proxy | None]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# Set by the route itself: a caller's copy would contradict it.
_OURS = frozenset({"host", "content-length", "transfer-encoding", "user-agent", "connection"})
_BODYFUL = frozenset({"POST", "PUT", "PATCH"})


@lru_cache(maxsize=256)
def _caller_may_send(name: str) -> bool:
    return bool(name) and set(name) <= _TOKEN and name.lower() not in _OURS


@dataclass(frozen=True, slots=True)
class Route:
    """How to reach one URL: the pool it shares, how to connect, what to write first."""

    key: PoolKey  # connections are shared per origin (per proxy, for http through one)
    host: str
    port: int
    tls: bool
    proxy: Proxy | None
    label: str  # for error messages: the origin, never the path (it may hold a query key)
    tail: str  # " <target> HTTP/1.1\r\n" and the headers every request to it carries

    @property
    def tunnel(self) -> bool:
        """https through a proxy: CONNECT, then TLS to the origin inside the tunnel."""
        return self.tls and self.proxy is not None

    def encode(self, method: str, headers: Headers | None, body: bytes | None) -> bytes:
        """The request's bytes; ValueError (naming no value) for a header that cannot be sent."""
        if not _caller_may_send(method):
            raise ValueError("The HTTP method is not a token.")
        parts = [method, self.tail]
        if headers:
            items = headers.items() if isinstance(headers, Mapping) else headers
            for name, value in items:
                if not _caller_may_send(name):
                    raise ValueError(f"Header {name!r} is not a token or is set by the client.")
                if "\r" in value or "\n" in value or "\0" in value:
                    raise ValueError(f"Header {name!r} has a line break or NUL in its value.")
                parts += (name, ": ", value, "\r\n")
        if body is not None:
            parts.append(f"Content-Length: {len(body)}\r\n\r\n")
        elif method in _BODYFUL:
            parts.append("Content-Length: 0\r\n\r\n")
        else:
            parts.append("\r\n")
        try:
            head = "".join(parts).encode("latin-1")
        except UnicodeEncodeError:
            head = b""
        if not head:
            raise ValueError("A header value is not Latin-1 text.")
        return head if body is None else head + body


def route_for(url: str, user_agent: str, from_env: bool) -> Route:
    """Parse ``url`` (http or https) and decide its origin, proxy and fixed request text."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"Only http:// and https:// URLs are supported, not {scheme!r}.")
    if parts.username is not None:
        raise ValueError("Credentials in the URL are not supported; send a header.")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        host = ""
    if not host:
        raise ValueError("The URL has no valid host or port.")
    authority = f"[{host}]" if ":" in host else host
    if port != _DEFAULT_PORTS[scheme]:
        authority = f"{authority}:{port}"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    configured = env_proxy(scheme, host) if from_env else None
    proxy = None if configured is None else parse_proxy(configured)
    label = f"{scheme}://{host}:{port}"
    extra = f"User-Agent: {user_agent}\r\n" if user_agent else ""
    key: PoolKey = (scheme, host, port, proxy)
    if proxy is not None:
        label = f"{label} (through {proxy.label})"
        if scheme == "http":  # absolute form to the proxy, which any http URL may share
            target = f"http://{authority}{target}"
            extra += proxy.auth_line()
            key = ("proxy", proxy.host, proxy.port, proxy)
    tail = f" {target} HTTP/1.1\r\nHost: {authority}\r\n{extra}"
    return Route(key, host, port, scheme == "https", proxy, label, tail)
