"""The gateway's ASGI app: security first, on the raw path and raw headers, then dispatch.

Order on every request: Host must be a loopback name (DNS rebinding), a browser Origin must be
allow-listed, the bearer token must name an app; only then is the body read (bounded), parsed,
routed and forwarded. Nothing here rebuilds a URL from the Host header.

The gateway is an adapter over the engine: it routes with the engine's registry, meters with
the engine's meter (each call reserves against its app's budget first and settles its row,
committed before the answer's last byte, after) and answers virtual models with the engine
itself. What it adds is the OpenAI wire: bodies passed through untouched, SSE relayed as it
arrives (``chat.py``), and a client that hangs up cancelling the upstream call.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
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
from promptready.gateway.cache import ResponseCache, cache_key
from promptready.gateway.chat import (
    Call,
    Outcome,
    gateway_policy,
    relay_json,
    relay_stream,
    unavailable,
)
from promptready.gateway.errors import GatewayError, bad_request, forbidden, unauthorized
from promptready.gateway.estimate import partial_usage, token_bound
from promptready.gateway.limits import RateLimiter
from promptready.gateway.security import Head, bearer_token, read_head
from promptready.gateway.shape import check_model, check_shape, parse_json
from promptready.ledger.meter import BudgetError, Caller, Hold, Meter
from promptready.ledger.records import usd
from promptready.providers.errors import UpstreamError
from promptready.providers.http import preload as preload_http
from promptready.providers.routing import Route
from promptready.providers.wire import completion_as_sse, wants_usage

DEFAULT_PORT = 8788
# Our path -> the upstream's path under its base URL.
INFERENCE_PATHS = {
    "/v1/chat/completions": "/chat/completions",
    "/v1/embeddings": "/embeddings",
    "/v1/responses": "/responses",
}
DEFAULT_MAX_BODY = 16 * 1024 * 1024
WATCH_AFTER_S = 0.05  # calls that last longer are watched for the client hanging up


@dataclass(frozen=True)
class GatewayConfig:
    """How the port behaves; defaults are the safe ones."""

    max_body_bytes: int = DEFAULT_MAX_BODY
    allowed_origins: frozenset[bytes] = frozenset()
    allowed_hosts: frozenset[bytes] = frozenset()  # names besides 127.0.0.1, localhost, [::1]
    allow_remote: bool = False
    # Import the HTTP client at start-up, off the first request. The desktop app says no: its
    # idle memory matters more there, and its first AI call imports the client anyway.
    warm_http: bool = True


@dataclass
class Request:
    """What the gateway read from one request before dispatching it."""

    request_id: str
    app: AppToken
    started: float
    headers: Headers = field(default_factory=list)


class _HangUp:
    """Watches for the client hanging up while its call runs, and then cancels the call (so the
    upstream request is cut too). ``forgive`` turns that cancellation into a normal end.

    The watch starts after WATCH_AFTER_S: most calls are over sooner, and a task per request
    would cost the hot path more than the rest of the metering together.
    """

    __slots__ = ("_receive", "_start", "_task", "_watcher", "gone")

    def __init__(self, receive: Receive) -> None:
        self.gone = False
        self._receive = receive
        self._task = asyncio.current_task()
        self._watcher: asyncio.Future[Any] | None = None
        self._start: asyncio.TimerHandle | None = asyncio.get_running_loop().call_later(
            WATCH_AFTER_S, self._watch
        )

    def _watch(self) -> None:
        self._start = None
        self._watcher = asyncio.ensure_future(self._receive())
        self._watcher.add_done_callback(self._heard)

    def _heard(self, watcher: asyncio.Future[Any]) -> None:
        if watcher.cancelled() or watcher.exception() is not None or self._task is None:
            return
        if watcher.result().get("type") == "http.disconnect" and not self._task.done():
            self.gone = True
            self._task.cancel()

    def forgive(self) -> bool:
        """After a CancelledError: True (and the task uncancelled) when the hang-up caused it."""
        if self.gone and self._task is not None:
            self._task.uncancel()
            return True
        return False

    def stop(self) -> None:
        """The call is over: stop watching (before the response completes, which would look
        like a disconnect to ``receive``)."""
        if self._start is not None:
            self._start.cancel()
        if self._watcher is not None:
            self._watcher.remove_done_callback(self._heard)
            self._watcher.cancel()


def _fill(hold: Hold, call: Call, model: str, cancelled: bool) -> None:
    """Copy what the call did onto its hold, for the row."""
    outcome = call.outcome
    if outcome.cache_hit:
        hold.cache_hit, hold.model = True, model
    else:
        hold.answered_by(call.route or call.routes[0])
    hold.ttft_ms, hold.error_code, hold.hops = outcome.ttft_ms, outcome.error_code, call.hops()
    hold.usage = outcome.usage
    if cancelled:
        hold.status, hold.error_code = "cancelled", "client_disconnected"
        if hold.usage is None:  # what was relayed before the client left is still billed
            hold.usage = partial_usage(call.request, call.relayed, hold.model or model)
        return
    ok = outcome.cache_hit or 200 <= outcome.status < 300
    hold.status = "ok" if ok and not outcome.error_code else "error"


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
        if meter is not None:
            engine.meter = meter
        self.apps = apps
        self.config = config or GatewayConfig()
        self._ids = itertools.count(1)
        self._id_prefix = f"req_{os.getpid():x}{int(time.time()) & 0xFFFFFF:06x}"
        self._apps_checked = 0.0
        self.rate_limiter = RateLimiter()
        self.cache = ResponseCache()
        self._callers: dict[str, Caller] = {}
        ai = engine.settings.ai
        self._json_policy = gateway_policy(ai.deadline_s)
        self._stream_policy = gateway_policy(ai.deadline_s, ai.first_byte_s)
        self.on_shutdown: list[Callable[[], None]] = []  # e.g. let go of the data folder's lock

    @property
    def meter(self) -> Meter | None:
        """The engine's meter: one for relayed calls and the engine's own (virtual models)."""
        return self.engine.meter

    @meter.setter
    def meter(self, meter: Meter | None) -> None:
        self.engine.meter = meter

    def caller(self, app: AppToken) -> Caller:
        """The meter's view of an app: its name and budgets (kept while its limits are)."""
        limits = app.limits
        found = self._callers.get(app.name)
        if (
            found is None
            or found.budget_usd_day != limits.budget_usd_day
            or found.budget_usd_month != limits.budget_usd_month
        ):
            found = Caller(
                "gateway", app.name, limits.budget_usd_day, limits.budget_usd_month, capped=True
            )
            self._callers[app.name] = found
        return found

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
        except BudgetError as error:
            await error.recorded()  # an answered refusal has its row, like any answer
            refused = GatewayError(
                402, str(error), error.code, type="insufficient_quota", retry=False
            )
            await send_error(send, refused, ours)
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
        if app is None and self.apps.reload():
            # An unknown token may be one created since the throttled re-read: one stat tells.
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
            await send_bytes(send, 200, self._usage(request.app), request.headers)
        elif path == "/v1/models" and method == "GET":
            await send_bytes(send, 200, await self._models(request.app), request.headers)
        elif upstream_path is not None or path == "/v1/models":
            raise GatewayError(405, f"{method} is not allowed on {path}.", "method_not_allowed")
        else:
            raise GatewayError(404, f"Unknown path {path}.", "not_found")

    async def _models(self, app: AppToken) -> bytes:
        """The virtual models and every model of every listed provider (with a key, or the
        credit proxy for a user of credits); the app's own allow-list instead, when it has one."""
        names = list(virtual.MODELS)
        if app.limits.models:
            names += [m for m in app.limits.models if m not in names]
        else:
            names += [m for m in await self.engine.registry.model_ids() if m not in names]
        data = [
            {"id": n, "object": "model", "created": 0, "owned_by": n.partition("/")[0]}
            for n in names
        ]
        return orjson.dumps({"object": "list", "data": data})

    def _usage(self, app: AppToken) -> bytes:
        """The app's own spend and limits, for ``GET /v1/usage``."""
        meter = self.meter
        assert meter is not None
        today, month, _ = meter.writer.spent_micro(app.name)
        limits = app.limits

        def money(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return orjson.dumps(
            {
                "app": app.name,
                "spent_usd_today": str(usd(today)),
                "spent_usd_month": str(usd(month)),
                "held_usd": str(usd(meter.held_micro(app.name))),
                "budget_usd_day": money(limits.budget_usd_day),
                "budget_usd_month": money(limits.budget_usd_month),
                "rpm": limits.rpm,
            }
        )

    async def _inference(
        self, receive: Receive, send: Send, request: Request, upstream_path: str
    ) -> None:
        raw = await read_body(receive, self.config.max_body_bytes)
        payload = parse_json(raw)
        model = check_model(payload)
        check_shape(payload, upstream_path)
        limits = request.app.limits
        if limits.models and model not in limits.models:
            raise forbidden(f"This app may not use {model}.", "model_not_allowed")
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
            if upstream_path != "/chat/completions":
                raise bad_request(
                    f"{model} only answers chat completions.", "invalid_model", "model"
                )
            await virtual.answer(
                self.engine, payload, send, request.headers, self.caller(request.app)
            )
            return
        routes = self._routes(model, upstream_path)
        call = Call(
            routes, upstream_path, payload, send, request.headers, Outcome(), request.started
        )
        meter = self.meter
        if meter is None:
            await self._forward(call, request)
            return
        tokens = token_bound(payload, len(raw), upstream_path)
        hold = meter.hold(self.caller(request.app), routes, tokens, request_id=request.request_id)
        hold.started = request.started

        async def finish() -> None:
            _fill(hold, call, model, cancelled=False)
            await hold.settle()

        call.finish = finish
        watch = _HangUp(receive)
        try:
            async with hold:
                try:
                    await self._forward(call, request)
                finally:
                    _fill(hold, call, model, cancelled=watch.gone)
        except asyncio.CancelledError:
            if not watch.forgive():
                raise
        finally:
            watch.stop()

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
        if key is not None and await self._answer_from_cache(key, call, request):
            return
        try:
            if payload.get("stream") is True:
                call.keep_stream = key is not None
                call.policy = self._stream_policy
                await relay_stream(call)
            else:
                call.policy = self._json_policy
                await relay_json(call)
        except UpstreamError as error:
            raise unavailable(call, error) from None
        if key is not None and call.outcome.body is not None:
            self.cache.put(key, call.outcome.body, limits.cache_ttl_s)

    async def _answer_from_cache(self, key: str, call: Call, request: Request) -> bool:
        cached = self.cache.get(key)
        if cached is None:
            return False
        call.outcome.status, call.outcome.cache_hit = 200, True
        headers = [*request.headers, (b"x-promptready-cache", b"hit")]
        await call.finish()
        if call.request.get("stream") is True:
            stream = completion_as_sse(orjson.loads(cached), wants_usage(call.request))
            await send_bytes(call.send, 200, stream, headers, SSE_HEADERS[0])
        else:
            await send_bytes(call.send, 200, cached, headers)
        return True

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.config.warm_http:
                    preload_http()  # off the start-up path and off the first request
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.engine.registry.close()
                meter = self.meter
                if meter is not None and meter.shared:
                    # Every row on disk now; the process's other callers (the desktop's popup)
                    # go on with this meter, and atexit closes it.
                    meter.writer.flush()
                elif meter is not None:
                    meter.close()  # every row on disk before the process ends
                for release in self.on_shutdown:
                    release()
                await send({"type": "lifespan.shutdown.complete"})
                return
