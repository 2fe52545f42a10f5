"""Raw ASGI plumbing for the hot path: read a bounded body, send JSON, with no framework."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from promptready.gateway.errors import GatewayError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

JSON_TYPE = (b"content-type", b"application/json")
SSE_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # tell any reverse proxy not to buffer the stream
]


class ClientGone(Exception):  # noqa: N818 - a condition, not an error of ours
    """The client disconnected before the request body was complete."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; GatewayError 413 as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def too_large(limit: int, close: bool = False) -> GatewayError:
    """413 for a body over ``limit`` bytes (``close`` when the body was not read)."""
    return GatewayError(
        413,
        f"The request body is larger than {limit} bytes.",
        "request_too_large",
        retry=False,
        close=close,
    )


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    headers: Headers,
    content_type: tuple[bytes, bytes] = JSON_TYPE,
) -> None:
    """A complete response with a known length."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [content_type, (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_empty(send: Send, status: int, headers: Headers) -> None:
    """A response with no body and no Content-Length (a CORS preflight's 204)."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def send_error(send: Send, error: GatewayError, headers: Headers) -> None:
    """An OpenAI-shaped error response."""
    await send_bytes(send, error.status, error.body(), [*headers, *error.headers()])
