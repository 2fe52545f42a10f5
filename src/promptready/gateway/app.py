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
from collections.abc import Sequence
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
    send_empty,
    send_error,
)
from promptready.gateway.cache import ResponseCache, cache_key, completion_as_sse
from promptready.gateway.chat import Call, Outcome, relay_json, relay_stream
from promptready.gateway.errors import GatewayError, bad_request, forbidden, unauthorized
from promptready.gateway.estimate import token_bound
from promptready.gateway.limits import RateLimiter
from promptready.gateway.metering import Meter
from promptready.gateway.security import Head, bearer_token, read_head
from promptready.gateway.shape import check_model, check_shape, parse_json
from promptready.providers.errors import UpstreamError
from promptready.providers.routing import Route

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
    allowed_hosts: frozenset[bytes] = frozenset()  # names besides 127.0.0.1, localhost, [::1]
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
            head = read_head(scope, self.config)  # Host, Origin, declared size: before the token
            ours.extend(head.cors)
            if head.preflight:
                await send_empty(send, 204, ours)
                return
            request = self._admit(scope, head, request_id, ours)
            await self._dispatch(scope, receive, send, request)
        except GatewayError as error:
            await send_error(send, error, ours)
        except ClientGone:
            return

    def _admit(self, scope: Scope, head: Head, request_id: str, ours: Headers) -> Request | None:
        """The app for the request's token (None for /health only)."""
        if scope["path"] == "/health":
            return None
        token = bearer_token(head.authorization)
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
        raw = await read_body(receive, self.config.max_body_bytes)
        payload = parse_json(raw)
        model = check_model(payload)
        check_shape(payload, upstream_path)
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
        if model in virtual.MODELS:
            if self.meter is not None:  # the engine records its own row; only the check here
                self.meter.release(self.meter.reserve(request.app, request.request_id))
            if upstream_path != "/chat/completions":
                raise bad_request(
                    f"{model} only answers chat completions.", "invalid_model", "model"
                )
            await virtual.answer(self.engine, payload, send, request.headers)
            return
        routes = self._routes(model, upstream_path)
        call = Call(
            routes, upstream_path, payload, send, request.headers, Outcome(), request.started
        )
        if self.meter is None:
            await self._forward(call, request)
            return
        tokens = token_bound(payload, len(raw), upstream_path)
        hold = self.meter.reserve(
            request.app, request.request_id, self.meter.estimate(routes, tokens)
        )
        try:
            await self._forward(call, request)
        finally:
            route = call.route or routes[0]
            cached = call.outcome.cache_hit
            self.meter.settle(
                hold,
                provider=None if cached else route.provider.name,
                model=model if cached else route.model,
                outcome=call.outcome,
                started=request.started,
                hops=call.hops(),
            )

    def _routes(self, model: str, upstream_path: str) -> Sequence[Route]:
        """The model then its fallbacks for chat (or the ``auto`` ranking); one route otherwise."""
        registry = self.engine.registry
        try:
            if upstream_path == "/chat/completions":
                return registry.chain(model)
            return (registry.resolve(model),)
        except NotConfiguredError as exc:
            raise bad_request(str(exc), "model_not_available", "model") from None

    async def _forward(self, call: Call, request: Request) -> None:
        """Answer from the cache or the routes; ``call.outcome`` says how it went."""
        limits, payload, upstream_path = request.app.limits, call.request, call.path
        cacheable = limits.cache_ttl_s and upstream_path != "/responses"
        key = cache_key(f"{request.app.name}{upstream_path}", payload) if cacheable else None
        if key is not None and await self._answer_from_cache(key, payload, call.send, request):
            call.outcome.status, call.outcome.cache_hit = 200, True
            return
        try:
            if payload.get("stream") is True:
                call.keep_stream = key is not None
                await relay_stream(call)
            else:
                await relay_json(call)
        except UpstreamError as error:
            call.outcome.status, call.outcome.error_code = 502, "upstream_unavailable"
            raise GatewayError(
                502, str(error), "upstream_unavailable", type="api_error", retry=True
            ) from None
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
