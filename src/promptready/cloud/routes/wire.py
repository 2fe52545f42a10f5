"""Raw ASGI plumbing shared by the endpoints: bounded bodies, JSON in and out, bearer auth.

The hot path uses no framework objects per request: endpoints are ASGI callables that Starlette's
router dispatches to directly, and these helpers read and write the ASGI messages themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import orjson

from promptready.cloud.auth import AuthError
from promptready.cloud.errors import ApiError, Headers, bad_request, too_large
from promptready.cloud.routes.deps import Deps

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024
JSON_TYPE = b"application/json"
SSE_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # tell a reverse proxy not to buffer the stream
]


class ClientGone(Exception):  # noqa: N818 - a condition, not an error of ours
    """The client disconnected before its request body was complete."""


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case), decoded as Latin-1."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole request body; a 413 as soon as it passes ``limit`` bytes."""
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


async def read_object(receive: Receive) -> dict[str, Any]:
    """The body as a JSON object; a 400 for anything else (bad JSON or UTF-8, deep nesting)."""
    body = await read_body(receive)
    try:
        parsed = orjson.loads(body)  # refuses invalid UTF-8 and nesting deeper than 1024
    except orjson.JSONDecodeError:
        raise bad_request(
            "The request body is not valid JSON (UTF-8, not nested too deeply).", "invalid_json"
        ) from None
    if not isinstance(parsed, dict):
        raise bad_request("The request body must be a JSON object.", "invalid_json")
    return parsed


def uuid_field(body: dict[str, Any], name: str) -> uuid.UUID:
    """``body[name]`` as a UUID; a 400 that never echoes the value (it is a credential)."""
    value = body.get(name)
    try:
        if not isinstance(value, str) or len(value) > 64:
            raise ValueError
        parsed = uuid.UUID(value)
    except ValueError:
        raise bad_request(f"{name} must be a UUID string.", "invalid_device_id", name) from None
    if parsed.int == 0:
        raise bad_request(f"{name} must be a random UUID, not the nil UUID.", "invalid_device_id")
    return parsed


def authenticate(deps: Deps, scope: Scope) -> uuid.UUID:
    """The device named by a valid bearer token; a 401 (token_expired or invalid_token) else."""
    value = header(scope, b"authorization")
    scheme, _, token = (value or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized(
            "invalid_token", "Send the access token as 'Authorization: Bearer TOKEN'."
        )
    try:
        return deps.tokens.verify(token.strip())
    except AuthError as error:
        raise unauthorized(error.failure.value, str(error)) from None


def unauthorized(code: str, message: str) -> ApiError:
    """A 401 the client answers by refreshing its token (and only for auth failures)."""
    return ApiError(401, message, code, type="authentication_error", retry=False)


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    headers: Sequence[tuple[bytes, bytes]] = (),
    content_type: bytes = JSON_TYPE,
) -> None:
    """A complete response with a known length."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_json(
    send: Send, status: int, payload: Any, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """A JSON response."""
    await send_bytes(send, status, orjson.dumps(payload), headers)


async def send_error(send: Send, error: ApiError) -> None:
    """An error response in OpenAI's shape."""
    await send_bytes(send, error.status, error.body(), error.headers())
