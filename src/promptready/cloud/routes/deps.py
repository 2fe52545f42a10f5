"""What every endpoint needs, built once per process by the app (and passed to billing's routes)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from promptready.cloud.auth import TokenService
from promptready.cloud.clock import Clock
from promptready.cloud.config import CloudConfig
from promptready.cloud.metrics import Metrics
from promptready.cloud.routes.costs import Pricer
from promptready.cloud.store import Store
from promptready.cloud.upstream import Upstream


@dataclass
class Hooks:
    """What other parts (billing) ask to be told: each settle's new balance, each scrape."""

    after_settle: list[Callable[[uuid.UUID, int], None]] = field(default_factory=list)
    before_scrape: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


@dataclass(frozen=True)
class Deps:
    """The process's shared services: configuration, store, tokens, upstream, metrics, prices."""

    config: CloudConfig
    store: Store
    tokens: TokenService
    upstream: Upstream
    metrics: Metrics
    pricer: Pricer
    clock: Clock
    hooks: Hooks = field(default_factory=Hooks)
