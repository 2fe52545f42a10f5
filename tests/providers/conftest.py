"""Providers pointed at the fake upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from promptready.providers.http import HttpClient, Timeouts
from promptready.providers.openai_compat import OpenAICompatProvider
from promptready.providers.presets import ProviderConfig
from promptready.secrets import ApiKey
from tests.fakes.upstream import FakeUpstream

KEY = "sk-fake-key-0123456789-DO-NOT-LEAK"


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(Timeouts(connect_s=2, idle_s=1, total_s=5))
    yield client
    await client.close()


def make_provider(
    upstream: FakeUpstream, http: HttpClient, name: str = "fake", stream_usage: bool = True
) -> OpenAICompatProvider:
    config = ProviderConfig(
        name=name, title=name, base_url=upstream.base_url, stream_usage=stream_usage
    )
    return OpenAICompatProvider(config, ApiKey(KEY), http)


@pytest.fixture
def provider(upstream: FakeUpstream, http: HttpClient) -> OpenAICompatProvider:
    return make_provider(upstream, http)
