"""``GET /healthz`` (the database answers) and ``GET /metrics`` (Prometheus text format)."""

from __future__ import annotations

from promptready.cloud.errors import unavailable
from promptready.cloud.metrics import CONTENT_TYPE
from promptready.cloud.routes.deps import Deps
from promptready.cloud.routes.wire import Receive, Scope, Send, send_bytes, send_json


class Health:
    """200 when this instance can reach its database, 503 otherwise."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            week = await self.deps.store.weekly_spend()
        except Exception:
            raise unavailable("The database is not answering.") from None
        await send_json(send, 200, {"status": "ok", "week": week.week})


class MetricsEndpoint:
    """The process's counters, plus the shared weekly figures read at scrape time."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        week = await self.deps.store.weekly_spend()
        for hook in self.deps.hooks.before_scrape:
            await hook()
        metrics = self.deps.metrics
        metrics.set_week(week.committed_usd, week.reserved_usd, week.cap_usd)
        await send_bytes(send, 200, metrics.render(), (), CONTENT_TYPE.encode())
