"""What every endpoint needs, built once per process by the app (and passed to billing's routes)."""

from __future__ import annotations

from dataclasses import dataclass

from promptready.cloud.auth import TokenService
from promptready.cloud.clock import Clock
from promptready.cloud.config import CloudConfig
from promptready.cloud.metrics import Metrics
from promptready.cloud.routes.costs import Pricer
from promptready.cloud.store import Store
from promptready.cloud.upstream import Upstream


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
