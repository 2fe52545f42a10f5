"""The proxy's ASGI app: Starlette's router over plain ASGI endpoints, and their lifespan.

No middleware runs per request: each route's endpoint is wrapped once, at build time, by
``Observed``, which turns an ``ApiError`` into its answer, an unexpected exception into a 500
in OpenAI's shape, and counts and logs the request (no ids, no secrets, no text). The proxy's
own routes are exact paths, so ``ProxyApp`` finds them by one dict lookup before Starlette's
stack (its two exception middlewares and router wrap every send in three closures, ~10% of the
HTTP layer's CPU); anything else (billing's routes with path parameters, a wrong method, a
trailing slash, lifespan) takes Starlette's path unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from promptready.cloud import logs
from promptready.cloud.auth import TokenService
from promptready.cloud.billing.service import BillingService
from promptready.cloud.clock import Clock, SystemClock
from promptready.cloud.config import CloudConfig, load
from promptready.cloud.errors import ApiError, not_found
from promptready.cloud.metrics import Metrics
from promptready.cloud.routes.auth import RefreshToken, RegisterDevice
from promptready.cloud.routes.chat import ChatCompletions
from promptready.cloud.routes.costs import ESTIMATE_MODEL, Pricer
from promptready.cloud.routes.credits import ByokMigration, Credits
from promptready.cloud.routes.deps import Deps
from promptready.cloud.routes.enhance import Enhance
from promptready.cloud.routes.models import Models
from promptready.cloud.routes.ops import Health, MetricsEndpoint
from promptready.cloud.routes.wire import ClientGone, Message, Receive, Scope, Send, send_error
from promptready.cloud.store import Store
from promptready.cloud.upstream import Upstream
from promptready.tokens import count_text

EXPIRE_EVERY_S = 30.0
_INTERNAL = ApiError(
    500,
    "The proxy failed to answer; nothing was charged. Try again.",
    "internal_error",
    "api_error",
)


class Observed:
    """One route's endpoint with its error answers, request counter and log line."""

    def __init__(self, name: str, endpoint: Any, metrics: Metrics) -> None:
        self.name = name
        self.endpoint = endpoint
        self.metrics = metrics
        self.log = logs.get()  # getLogger takes the logging module's lock on every call

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 0

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.endpoint(scope, receive, observed_send)
        except ApiError as error:
            if not status:
                await send_error(observed_send, error)
        except ClientGone:
            status = status or 499
        except Exception as exc:
            self.log.error(
                "unhandled error", extra=logs.fields(route=self.name, error=type(exc).__name__)
            )
            if not status:
                await send_error(observed_send, _INTERNAL)
        finally:
            self.metrics.request_answered(self.name, status)
            self.log.info(
                "request",
                extra=logs.fields(
                    route=self.name,
                    status=status,
                    latency_ms=round((time.perf_counter() - started) * 1000, 2),
                ),
            )


class ProxyApp(Starlette):
    """Starlette with a table of exact ``(method, path)`` endpoints served ahead of its stack."""

    def __init__(self, lifespan: Any) -> None:
        super().__init__(lifespan=lifespan)
        self.direct: dict[tuple[str, str], Observed] = {}

    def add_direct(self, table: list[tuple[str, str, Observed]]) -> None:
        """Serve ``table``'s (method, exact path, endpoint) rows from the dict, and give them
        to the router too, so a wrong method or a trailing slash gets Starlette's answer."""
        for method, path, endpoint in table:
            self.direct[(method, path)] = endpoint
            self.router.routes.append(Route(path, endpoint, methods=[method]))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.direct.get((scope["method"], scope["path"]))
            if endpoint is not None:
                scope["app"] = self
                await endpoint(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def routes(deps: Deps) -> list[tuple[str, str, Observed]]:
    """Every route as (method, path, endpoint), each endpoint built once."""
    table: list[tuple[str, str, Any]] = [
        ("POST", "/api/v1/auth/device", RegisterDevice(deps)),
        ("POST", "/api/v1/auth/refresh", RefreshToken(deps)),
        ("GET", "/api/v1/credits", Credits(deps)),
        ("POST", "/api/v1/credits/byok-migration", ByokMigration(deps)),
        ("POST", "/api/v1/enhance", Enhance(deps)),
        ("POST", "/v1/chat/completions", ChatCompletions(deps)),
        ("GET", "/v1/models", Models(deps)),
        ("GET", "/healthz", Health(deps)),
        ("GET", "/metrics", MetricsEndpoint(deps)),
    ]
    return [
        (method, path, Observed(path, endpoint, deps.metrics)) for method, path, endpoint in table
    ]


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    await send_error(send, not_found("There is no such endpoint."))


def create_app(
    config: CloudConfig,
    *,
    env: Mapping[str, str] | None = None,
    store: Store | None = None,
    clock: Clock | None = None,
    expire_every_s: float = EXPIRE_EVERY_S,
) -> Starlette:
    """The app; it opens (or is given) the store and migrates an empty database at startup.

    The routes are added once the store is open (no request arrives before startup ends);
    billing's routes are mounted when ``env`` configures Stripe (``STRIPE_API_KEY``)."""
    keys = config.require_serving()
    clock = clock or SystemClock()
    environ = os.environ if env is None else env

    @contextlib.asynccontextmanager
    async def lifespan(app: ProxyApp) -> AsyncIterator[None]:
        opened = store or await Store.open(config.database_url, config.store_settings(), clock)
        await opened.ensure_schema()
        count_text("warm up", ESTIMATE_MODEL)  # load the tokenizer before the first request
        deps = Deps(
            config=config,
            store=opened,
            tokens=TokenService(keys),
            upstream=Upstream(idle_timeout_s=config.upstream_timeout_s),
            metrics=Metrics(),
            pricer=Pricer(config.rate_card, _models(config)),
            clock=clock,
        )
        app.add_direct(routes(deps))
        billing = BillingService.from_env(deps, environ)
        if billing is not None:
            app.router.routes.extend(billing.routes())
            deps.hooks.after_settle.append(billing.after_settle)
            deps.hooks.before_scrape.append(billing.publish_metrics)
            billing.start()
        expiry = asyncio.create_task(_expire_holds(deps, expire_every_s))
        logs.get().info("ready")
        try:
            yield
        finally:
            expiry.cancel()
            await asyncio.gather(expiry, return_exceptions=True)
            if billing is not None:
                await billing.close()
            await deps.upstream.close()
            if store is None:
                await opened.close()

    app = ProxyApp(lifespan)
    app.router.default = _not_found
    return app


def _models(config: CloudConfig) -> list[str]:
    names = [c.model for c in config.cohorts]
    return names + ([config.degrade_model] if config.degrade_model else [])


async def _expire_holds(deps: Deps, every_s: float) -> None:
    """Release holds left by a crashed process, in every serving process, forever."""
    while True:
        await asyncio.sleep(every_s)
        try:
            expired = await deps.store.expire_holds()
        except Exception as exc:
            logs.get().error("expire_holds failed", extra=logs.fields(error=type(exc).__name__))
            continue
        if expired:
            logs.get().info("holds expired", extra=logs.fields(expired=expired))


def create_app_from_env() -> Starlette:
    """The app configured from the environment (the factory each worker process calls)."""
    logs.configure()
    return create_app(load(os.environ))
