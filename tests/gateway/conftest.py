"""A gateway on a real loopback port, routed to the fake upstream, with one app token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from keyrings.alt.file import PlaintextKeyring

from promptready.engine import Engine
from promptready.gateway.app import Gateway, GatewayConfig
from promptready.gateway.apps import AppLimits, AppRegistry
from promptready.providers.registry import ProviderRegistry
from promptready.secrets import ApiKey, SecretStore
from promptready.settings import AISettings, Settings
from tests.fakes.upstream import FakeUpstream, serve

UPSTREAM_KEY = "sk-upstream-key-0123456789-NEVER-SHOWN"


@dataclass
class RunningGateway:
    url: str  # base URL ending in /v1
    token: str
    apps: AppRegistry
    upstream: FakeUpstream

    def new_app(self, name: str, limits: AppLimits | None = None) -> str:
        return self.apps.create(name, limits)[1]


def make_gateway(
    upstream: FakeUpstream, home: Path, config: GatewayConfig | None = None
) -> Gateway:
    secrets = SecretStore(PlaintextKeyring())
    secrets.set_key("fake", ApiKey(UPSTREAM_KEY))
    ai = AISettings(
        provider="fake", model="gpt-4o-mini", custom_providers={"fake": upstream.base_url}
    )
    engine = Engine(Settings(ai=ai), ProviderRegistry(ai, secrets))
    return Gateway(engine, AppRegistry(home / "apps.toml"), config)


@pytest.fixture
def gateway(upstream: FakeUpstream, tmp_path: Path) -> Iterator[RunningGateway]:
    app = make_gateway(upstream, tmp_path)
    _, token = app.apps.create("tests")
    with serve(app, lifespan="on") as url:
        yield RunningGateway(f"{url}/v1", token, app.apps, upstream)
