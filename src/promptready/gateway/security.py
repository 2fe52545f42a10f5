"""Who may talk to the port, decided on the raw request head before any token is looked at.

- Host: exactly one header, ``host[:port]`` by RFC 3986's grammar, naming this machine
  (127.0.0.1, localhost, [::1] or a configured name) with the serving port or none. Malformed is
  400; a well-formed foreign name or port is 421 (DNS rebinding ends here).
- Origin: none (not a browser) or an exact allow-list entry; allow-listed origins get CORS
  headers, and their preflights are answered without a token.
- A declared body larger than the limit is 413 before anything reads it, so
  ``Expect: 100-continue`` is only granted to bodies that will be accepted.

Pure functions over header bytes; ``app.py`` calls :func:`read_head` first on every request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from promptready.gateway.asgi import Headers, Scope, too_large
from promptready.gateway.errors import GatewayError, bad_request, forbidden

LOOPBACK_HOSTS = frozenset({b"127.0.0.1", b"localhost", b"[::1]"})
LOOPBACK_BIND = frozenset({"127.0.0.1", "::1", "localhost"})

# RFC 3986 host: an IP-literal in brackets, or a reg-name (an IPv4 address is one); RFC 9110 port:
# digits (five at most: anything longer is not a port, and int() of it costs nothing).
_HOST = re.compile(
    rb"(?P<name>\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+)"
    rb"(?::(?P<port>[0-9]{0,5}))?"
)

CORS_METHODS = frozenset({b"GET", b"POST"})
# What the OpenAI SDKs send from a browser; anything else in a preflight is refused.
CORS_HEADERS = frozenset(
    {b"authorization", b"content-type", b"accept", b"openai-organization", b"openai-project"}
)
CORS_HEADER_PREFIXES = (b"x-stainless-",)
CORS_EXPOSED = (
    b"x-request-id, x-should-retry, retry-after, x-promptready-model, x-promptready-cache"
)
CORS_MAX_AGE = b"600"


class HeadPolicy(Protocol):
    """What :func:`read_head` needs from the gateway's configuration."""

    @property
    def allowed_origins(self) -> frozenset[bytes]: ...
    @property
    def allowed_hosts(self) -> frozenset[bytes]: ...
    @property
    def allow_remote(self) -> bool: ...
    @property
    def max_body_bytes(self) -> int: ...


@dataclass(frozen=True)
class Head:
    """What the request head allows: the token to check, the CORS headers to answer with."""

    authorization: bytes | None
    cors: Headers = field(default_factory=list)
    preflight: bool = False


def parse_host(value: bytes) -> tuple[bytes, int | None] | None:
    """``(name lowercased, port or None)`` of a Host value, or None if it is not host[:port]."""
    match = _HOST.fullmatch(value)
    if match is None:
        return None
    port = match["port"]
    return match["name"].lower(), int(port) if port else None


def host_allowed(
    value: bytes, serving_port: int | None, extra: frozenset[bytes], any_name: bool
) -> bool:
    """Whether a well-formed Host names this machine (or any name, with --allow-remote) and port."""
    parsed = parse_host(value)
    if parsed is None:
        return False
    name, port = parsed
    if port is not None and port != serving_port:
        return False
    return any_name or name in LOOPBACK_HOSTS or name in extra


def origin_allowed(origin: bytes | None, allowed: frozenset[bytes]) -> bool:
    """No Origin (not a browser) is fine; a browser Origin must be allow-listed exactly."""
    return origin is None or normal_origin(origin) in allowed


def normal_origin(origin: bytes) -> bytes:
    """An Origin as the allow-list spells it: lowercase, no trailing slash."""
    return origin.strip().lower().rstrip(b"/")


def cors_request_headers_allowed(requested: bytes) -> bool:
    """Whether every header a preflight asks for is one the gateway accepts from a browser."""
    names = [n.strip().lower() for n in requested.split(b",") if n.strip()]
    return all(n in CORS_HEADERS or n.startswith(CORS_HEADER_PREFIXES) for n in names)


def read_head(scope: Scope, policy: HeadPolicy) -> Head:
    """Check a request head (ASGI ``scope``); GatewayError 400/421/403/413/417 when refused."""
    hosts: list[bytes] = []
    origins: list[bytes] = []
    authorization = length = expect = wanted_method = wanted_headers = None
    for name, value in scope["headers"]:
        if name == b"host":
            hosts.append(value)
        elif name == b"origin":
            origins.append(value)
        elif name == b"authorization":
            authorization = value
        elif name == b"content-length":
            length = value
        elif name == b"expect":
            expect = value
        elif name == b"access-control-request-method":
            wanted_method = value
        elif name == b"access-control-request-headers":
            wanted_headers = value
    _check_host(hosts, scope, policy)
    origin = _check_origin(origins, policy.allowed_origins)
    cors: Headers = []
    if origin is not None:
        cors = [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
    if origin is not None and scope["method"] == "OPTIONS" and wanted_method is not None:
        return Head(None, _preflight(cors, wanted_method, wanted_headers), preflight=True)
    if origin is not None:
        cors.append((b"access-control-expose-headers", CORS_EXPOSED))
    if expect is not None and expect.lower() != b"100-continue":
        raise GatewayError(417, "Only 'Expect: 100-continue' is supported.", "expectation_failed")
    # Digits only (httptools refuses anything else); a length past 18 digits is too large anyway.
    if (
        length is not None
        and length.isdigit()
        and (len(length) > 18 or int(length) > policy.max_body_bytes)
    ):
        # Refused unread (so 100-continue is never granted); the unread body ends the connection.
        raise too_large(policy.max_body_bytes, close=True)
    return Head(authorization, cors)


def _check_host(hosts: list[bytes], scope: Scope, policy: HeadPolicy) -> None:
    server = scope.get("server")
    verdict = (
        _host_verdict(
            hosts[0], server[1] if server else None, policy.allowed_hosts, policy.allow_remote
        )
        if len(hosts) == 1
        else _MALFORMED
    )
    if verdict is _MALFORMED:
        raise bad_request(
            "The request needs exactly one Host header of the form host[:port].", "invalid_host"
        )
    if verdict is _FOREIGN:
        raise GatewayError(
            421,
            "Requests must address this machine by a loopback name (127.0.0.1, localhost or "
            "[::1]) and the port it listens on.",
            "forbidden_host",
            retry=False,
        )


_ALLOWED, _MALFORMED, _FOREIGN = "allowed", "malformed", "foreign"


# Every request of a client sends the same Host: its verdict is kept (bounded, so a client
# sending a new Host each time only evicts entries) instead of a regex match per request.
@lru_cache(maxsize=256)
def _host_verdict(
    value: bytes, serving_port: int | None, extra: frozenset[bytes], any_name: bool
) -> str:
    if parse_host(value) is None:
        return _MALFORMED
    return _ALLOWED if host_allowed(value, serving_port, extra, any_name) else _FOREIGN


def _check_origin(origins: list[bytes], allowed: frozenset[bytes]) -> bytes | None:
    """The allow-listed Origin of a browser request, None for a non-browser, or 403."""
    if not origins:
        return None
    if len(origins) == 1 and origin_allowed(origins[0], allowed):
        return normal_origin(origins[0])
    raise forbidden(
        "Browser pages may not call the local API unless their origin is allow-listed in settings.",
        "forbidden_origin",
    )


def _preflight(cors: Headers, method: bytes, requested: bytes | None) -> Headers:
    if method.strip().upper() not in CORS_METHODS:
        raise forbidden(
            "Browser pages may only GET or POST the local API.", "forbidden_cors_method"
        )
    if requested is not None and not cors_request_headers_allowed(requested):
        raise forbidden(
            "The browser asked to send a header the local API does not accept.",
            "forbidden_cors_header",
        )
    found = [
        *cors,
        (b"access-control-allow-methods", b"GET, POST"),
        (b"access-control-max-age", CORS_MAX_AGE),
    ]
    if requested:
        found.append((b"access-control-allow-headers", requested.strip().lower()))
    return found


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
