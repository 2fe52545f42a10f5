"""The gateway's ASGI app: security first, on the raw path and raw headers, then dispatch.

Order on every request: Host must be a loopback name (DNS rebinding), a browser Origin must be
allow-listed, the bearer token must name an app; only then is the body read (bounded), parsed,
routed and forwarded. Nothing here rebuilds a URL from the Host header.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from promptready import __version__
from promptready.engine import Engine
from promptready.errors import NotConfiguredError
from promptready.gateway import virtual
from promptready.gateway.apps import AppRegistry, AppToken
from promptready.gateway.asgi import (
    SSE_HEADERS,
    ClientGone,
    Headers,
    Receive,
    Scope,
    Send,
    read_body,
    send_bytes,
    send_error,
)
from promptready.gateway.cache import ResponseCache, cache_key, completion_as_sse
from promptready.gateway.chat import Call, Outcome, prepare_body, relay_json, relay_stream
from promptready.gateway.errors import GatewayError, bad_request, forbidden, unauthorized
from promptready.gateway.limits import RateLimiter
from promptready.gateway.metering import Meter
from promptready.gateway.security import (
    bearer_token,
    is_loopback_host,
    origin_allowed,
)
from promptready.providers.errors import UpstreamError

DEFAULT_PORT = 8788
# Our path -> the upstream's path under its base URL.
INFERENCE_PATHS = {
    "/v1/chat/completions": "/chat/completions",
    "/v1/embeddings": "/embeddings",
    "/v1/responses": "/responses",
}
DEFAULT_MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class GatewayConfig:
    """How the port behaves; defaults are the safe ones."""

    max_body_bytes: int = DEFAULT_MAX_BODY
    allowed_origins: frozenset[bytes] = frozenset()
    allow_remote: bool = False


@dataclass
class Request:
    """What the gateway read from one request before dispatching it."""

    request_id: str
    app: AppToken
    started: float
    headers: Headers = field(default_factory=list)


class Gateway:
    """The OpenAI-compatible loopback API over one Engine and one apps file."""

    def __init__(
        self,
        engine: Engine,
        apps: AppRegistry,
        config: GatewayConfig | None = None,
        meter: Meter | None = None,
    ) -> None:
        self.engine = engine
        self.meter = meter
        self.apps = apps
        self.config = config or GatewayConfig()
        self._ids = itertools.count(1)
        self._id_prefix = f"req_{os.getpid():x}{int(time.time()) & 0xFFFFFF:06x}"
        self._apps_checked = 0.0
        self.rate_limiter = RateLimiter()
        self.cache = ResponseCache()

    def _next_request_id(self) -> str:
        return f"{self._id_prefix}{next(self._ids):08x}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_id = self._next_request_id()
        ours: Headers = [(b"x-request-id", request_id.encode())]
        try:
            request = self._admit(scope, request_id, ours)
            await self._dispatch(scope, receive, send, request)
        except GatewayError as error:
            await send_error(send, error, ours)
        except ClientGone:
            return

    def _admit(self, scope: Scope, request_id: str, ours: Headers) -> Request | None:
        """Security checks on raw headers; the app for the token (None for /health only)."""
        host = origin = authorization = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"origin":
                origin = value
            elif name == b"authorization":
                authorization = value
        if not self.config.allow_remote and not is_loopback_host(host):
            raise forbidden(
                "Requests must address this machine by a loopback name.", "forbidden_host"
            )
        if not origin_allowed(origin, self.config.allowed_origins):
            raise forbidden(
                "Browser pages may not call the local API unless their origin is allow-listed "
                "in settings.",
                "forbidden_origin",
            )
        if scope["path"] == "/health":
            return None
        token = bearer_token(authorization)
        if token is None:
            raise unauthorized(
                "Send an app token as 'Authorization: Bearer TOKEN'; create one with "
                "`promptready tokens create NAME`."
            )
        self._refresh_apps()
        app = self.apps.authenticate(token)
        if app is None:
            raise unauthorized("This app token is not valid (revoked or mistyped).")
        return Request(request_id, app, time.perf_counter(), ours)

    def _refresh_apps(self) -> None:
        # Re-read the apps file at most once a second: a revoked token stops within a second.
        now = time.monotonic()
        if now - self._apps_checked >= 1.0:
            self._apps_checked = now
            self.apps.reload()

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, request: Request | None
    ) -> None:
        path, method = scope["path"], scope["method"]
        if request is None:
            body = orjson.dumps({"status": "ok", "version": __version__})
            await send_bytes(send, 200, body, [])
            return
        upstream_path = INFERENCE_PATHS.get(path)
        if upstream_path is not None and method == "POST":
            await self._inference(receive, send, request, upstream_path)
        elif path == "/v1/usage" and method == "GET" and self.meter is not None:
            await send_bytes(send, 200, self.meter.usage(request.app), request.headers)
        elif path == "/v1/models" and method == "GET":
            await send_bytes(send, 200, self._models(request.app), request.headers)
        elif upstream_path is not None or path == "/v1/models":
            raise GatewayError(405, f"{method} is not allowed on {path}.", "method_not_allowed")
        else:
            raise GatewayError(404, f"Unknown path {path}.", "not_found")

    def _models(self, app: AppToken) -> bytes:
        names = list(virtual.MODELS)
        if app.limits.models:
            names += [m for m in app.limits.models if m not in names]
        data = [
            {"id": n, "object": "model", "created": 0, "owned_by": "promptready"} for n in names
        ]
        return orjson.dumps({"object": "list", "data": data})

    async def _inference(
        self, receive: Receive, send: Send, request: Request, upstream_path: str
    ) -> None:
        payload = _parse_json(await read_body(receive, self.config.max_body_bytes))
        model = payload.get("model")
        if not isinstance(model, str) or not model.strip():
            raise bad_request("'model' must be a model name.", "invalid_model", "model")
        _check_shape(payload, upstream_path)
        allowed = request.app.limits.models
        if allowed and model not in allowed:
            raise forbidden(f"This app may not use {model}.", "model_not_allowed")
        limits = request.app.limits
        if limits.rpm is not None:
            wait = self.rate_limiter.admit(request.app.name, limits.rpm)
            if wait is not None:
                raise GatewayError(
                    429,
                    f"This app is limited to {limits.rpm} requests a minute; "
                    f"try again in {math.ceil(wait)} s.",
                    "rate_limit_exceeded",
                    type="rate_limit_error",
                    retry_after_s=math.ceil(wait),
                )
        if self.meter is not None:
            self.meter.check(request.app, request.request_id)
        if model in virtual.MODELS:
            if upstream_path != "/chat/completions":
                raise bad_request(
                    f"{model} only answers chat completions.", "invalid_model", "model"
                )
            await virtual.answer(self.engine, payload, send, request.headers)
            return
        cacheable = limits.cache_ttl_s and upstream_path != "/responses"
        key = cache_key(f"{request.app.name}{upstream_path}", payload) if cacheable else None
        if key is not None and await self._answer_from_cache(key, payload, send, request):
            if self.meter is not None:
                self.meter.record(
                    request.app,
                    provider=None,
                    model=model,
                    outcome=Outcome(200),
                    request_id=request.request_id,
                    started=request.started,
                    cache_hit=True,
                )
            return
        try:
            route = self.engine.registry.resolve(model)
        except NotConfiguredError as exc:
            raise bad_request(str(exc), "model_not_available", "model") from None
        body, wants_usage = prepare_body(payload, route)
        headers = [
            *request.headers,
            (b"x-promptready-provider", route.provider.name.encode()),
            (b"x-promptready-model", route.model.encode("utf-8", "replace")),
        ]
        call = Call(
            route, upstream_path, body, wants_usage, send, headers, Outcome(), request.started
        )
        try:
            if payload.get("stream") is True:
                await relay_stream(call)
            else:
                await relay_json(call)
        except UpstreamError as error:
            call.outcome.status, call.outcome.error_code = 502, "upstream_unavailable"
            raise GatewayError(
                502, str(error), "upstream_unavailable", type="api_error", retry=True
            ) from None
        finally:
            if self.meter is not None:
                self.meter.record(
                    request.app,
                    provider=route.provider.name,
                    model=route.model,
                    outcome=call.outcome,
                    request_id=request.request_id,
                    started=request.started,
                )
        if key is not None and call.outcome.body is not None:
            self.cache.put(key, call.outcome.body, limits.cache_ttl_s)

    async def _answer_from_cache(
        self, key: str, payload: dict[str, Any], send: Send, request: Request
    ) -> bool:
        cached = self.cache.get(key)
        if cached is None:
            return False
        headers = [*request.headers, (b"x-promptready-cache", b"hit")]
        if payload.get("stream") is True:
            options = payload.get("stream_options")
            usage = isinstance(options, dict) and options.get("include_usage") is True
            stream = completion_as_sse(cached, usage)
            await send_bytes(send, 200, stream, headers, SSE_HEADERS[0])
        else:
            await send_bytes(send, 200, cached, headers)
        return True

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.engine.registry.close()
                if self.meter is not None:
                    self.meter.writer.close()  # every row on disk before the process ends
                await send({"type": "lifespan.shutdown.complete"})
                return


def _check_shape(payload: dict[str, Any], upstream_path: str) -> None:
    """The fields the gateway itself relies on; everything else is the upstream's to judge."""
    if upstream_path == "/chat/completions":
        messages = payload.get("messages")
        if not isinstance(messages, list) or not messages:
            raise bad_request(
                "'messages' must be a non-empty list.", "invalid_messages", "messages"
            )
    elif "input" not in payload:
        raise bad_request("'input' is required.", "invalid_input", "input")
    if "stream" in payload and not isinstance(payload["stream"], bool):
        raise bad_request("'stream' must be true or false.", "invalid_type", "stream")
    if upstream_path == "/embeddings" and payload.get("stream"):
        raise bad_request("Embeddings cannot be streamed.", "invalid_type", "stream")


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request("The request body is not valid JSON (UTF-8).", "invalid_json") from None
    if not isinstance(payload, dict):
        raise bad_request("The request body must be a JSON object.", "invalid_json")
    return payload
