"""Who may talk to the port: loopback Host names only (DNS rebinding), no browser Origins unless
allow-listed, and a bearer token. Pure functions over raw header bytes, decided on the raw path."""

from __future__ import annotations

LOOPBACK_HOSTS = frozenset({b"127.0.0.1", b"localhost", b"[::1]", b"::1"})
LOOPBACK_BIND = frozenset({"127.0.0.1", "::1", "localhost"})


def host_name(host_header: bytes) -> bytes:
    """The host part of a Host header, lowercased, without its port (IPv6 keeps its brackets)."""
    host = host_header.strip().lower()
    if host.startswith(b"["):
        end = host.find(b"]")
        return host[: end + 1] if end != -1 else host
    return host.rsplit(b":", 1)[0] if host.count(b":") == 1 else host


def is_loopback_host(host_header: bytes | None) -> bool:
    """Whether a request names this machine by a loopback name (rebinding names another)."""
    if not host_header:
        return False
    return host_name(host_header) in LOOPBACK_HOSTS


def origin_allowed(origin: bytes | None, allowed: frozenset[bytes]) -> bool:
    """No Origin (not a browser) is fine; a browser Origin must be allow-listed exactly."""
    return origin is None or origin.strip().lower().rstrip(b"/") in allowed


def bearer_token(authorization: bytes | None) -> str | None:
    """The token of an ``Authorization: Bearer X`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(b" ")
    if scheme.lower() != b"bearer" or not token.strip():
        return None
    try:
        return token.strip().decode("ascii")
    except UnicodeDecodeError:
        return None


def is_loopback_bind(host: str) -> bool:
    """Whether a listen address keeps the port on this machine."""
    return host in LOOPBACK_BIND or host.startswith("127.")
