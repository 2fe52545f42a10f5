"""Build the gateway from the user's settings: one recipe for ``promptready serve`` and the
desktop app's background gateway, so both meter, limit and authenticate the same way, and hold
the data folder's lock (one gateway per folder, so budgets held in memory are exact)."""

from __future__ import annotations

from promptready.engine import Engine
from promptready.gateway import folder_lock
from promptready.gateway.app import Gateway, GatewayConfig
from promptready.gateway.apps import AppRegistry
from promptready.gateway.security import normal_origin
from promptready.ledger.meter import process_meter
from promptready.paths import AppPaths, app_paths


def apps_file(paths: AppPaths | None = None) -> AppRegistry:
    """The registry of app tokens in the config directory."""
    return AppRegistry((paths or app_paths()).config_dir / "apps.toml")


def build_gateway(
    engine: Engine,
    *,
    allow_remote: bool = False,
    paths: AppPaths | None = None,
    port: int = 0,
    warm_http: bool = True,
) -> Gateway:
    """The gateway over ``engine`` (metered by this process's meter, the user's own prices) on
    ``port``; ConfigError when another gateway serves this data folder."""
    paths = paths or app_paths()
    settings = engine.settings.gateway
    config = GatewayConfig(
        max_body_bytes=settings.max_body_mb * 1024 * 1024,
        allowed_origins=frozenset(normal_origin(o.encode()) for o in settings.allowed_origins),
        allowed_hosts=frozenset(h.strip().lower().encode() for h in settings.allowed_hosts),
        allow_remote=allow_remote,
        warm_http=warm_http,
    )
    lock = folder_lock.acquire(paths.ledger_file.parent, port)
    try:
        if engine.meter is None:
            engine.meter = process_meter(paths.ledger_file, engine.settings)
        gateway = Gateway(engine, apps_file(paths), config)
    except BaseException:
        lock.release()
        raise
    gateway.on_shutdown.append(lock.release)
    return gateway
