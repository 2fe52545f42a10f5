"""What can go wrong on an HTTP/1.1 exchange, as one small tree::

    HTTPError
    ├── ConnectError            no connection: DNS, refused, TLS, a proxy's CONNECT refusal
    ├── HTTPTimeoutError        connect, idle (no byte for ``idle_s``) or total deadline passed
    ├── RemoteClosedError       the server closed or reset the connection before the end
    ├── MalformedResponseError  not HTTP/1.1 (status line, headers, chunk sizes, gzip)
    └── BodyTooLargeError       a body longer than the caller's ``read(limit)`` allows

Messages name the origin (scheme, host, port) at most: never a path (it may hold a query key),
a request header (Authorization) or a proxy's userinfo. They are raised outside ``except``
blocks, so ``__context__`` carries no lower-level exception either.
"""

from __future__ import annotations


class HTTPError(Exception):
    """An HTTP exchange failed; the message is safe to show and log."""


class ConnectError(HTTPError):
    """No connection could be made (or tunnelled) to the server."""


class HTTPTimeoutError(HTTPError):
    """A deadline passed: connecting, waiting for a byte, or the whole exchange."""


class RemoteClosedError(HTTPError):
    """The server closed the connection before the answer was complete."""


class MalformedResponseError(HTTPError):
    """The server sent something that is not a valid HTTP/1.1 response."""


class BodyTooLargeError(HTTPError):
    """The body was longer than the caller said any answer of its server can be."""
