"""Build the gateway from the user's settings: one recipe for ``promptready serve`` and the
desktop app's background gateway, so both meter, limit and authenticate the same way."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from promptready.engine import Engine
from promptready.errors import ConfigError
from promptready.gateway.app import Gateway, GatewayConfig
from promptready.gateway.apps import AppRegistry
from promptready.gateway.metering import Meter
from promptready.gateway.security import normal_origin
from promptready.ledger.writer import BatchWriter
from promptready.paths import AppPaths, app_paths
from promptready.pricing import load_rate_card


def monthly_cap(raw: str) -> Decimal | None:
    """The global monthly cap from settings ("" for none)."""
    if not raw.strip():
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ConfigError(
            f'gateway.monthly_cap_usd must be an amount like "20", not {raw!r}.'
        ) from None


def apps_file(paths: AppPaths | None = None) -> AppRegistry:
    """The registry of app tokens in the config directory."""
    return AppRegistry((paths or app_paths()).config_dir / "apps.toml")


def build_gateway(
    engine: Engine, *, allow_remote: bool = False, paths: AppPaths | None = None
) -> Gateway:
    """The gateway over ``engine``: its settings, the apps file and a batching ledger writer."""
    paths = paths or app_paths()
    settings = engine.settings.gateway
    cap = monthly_cap(settings.monthly_cap_usd)  # before the writer starts its thread
    config = GatewayConfig(
        max_body_bytes=settings.max_body_mb * 1024 * 1024,
        allowed_origins=frozenset(normal_origin(o.encode()) for o in settings.allowed_origins),
        allowed_hosts=frozenset(h.strip().lower().encode() for h in settings.allowed_hosts),
        allow_remote=allow_remote,
    )
    meter = Meter(
        BatchWriter(paths.ledger_file, store_prompts=engine.settings.privacy.store_prompts),
        # The user's own prices, as the engine and the usage window use: budgets must agree.
        load_rate_card().with_overrides(engine.settings.pricing.models),
        cap,
    )
    return Gateway(engine, apps_file(paths), config, meter)
