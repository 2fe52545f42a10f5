"""The official ``openai`` SDK against ``/v1/chat/completions``: answers, its own exception types,
and exactly one attempt where the proxy says ``x-should-retry: false`` (§8 case 20)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from promptready.cloud.store import Store
from tests.cloud.http.conftest import Cloud, Device, StartCloud, give, register
from tests.fakes.upstream import FakeUpstream, Script

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello."}]


class Attempts:
    """Counts the HTTP requests the SDK makes."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, request: object) -> None:
        self.count += 1


@pytest.fixture
async def attempts() -> AsyncIterator[Attempts]:
    yield Attempts()


def sdk(cloud: Cloud, token: str, attempts: Attempts, max_retries: int = 2) -> openai.AsyncOpenAI:
    http = openai.DefaultAsyncHttpxClient(event_hooks={"request": [attempts]})
    return openai.AsyncOpenAI(
        base_url=f"{cloud.url}/v1", api_key=token, http_client=http, max_retries=max_retries
    )


async def funded(cloud: Cloud, store: Store, credits: int) -> Device:
    async with cloud.client() as client:
        device = await register(client)
    await give(store, device, credits)
    return device


async def test_a_completion_comes_back_as_the_sdk_type(
    cloud: Cloud, store: Store, attempts: Attempts
) -> None:
    device = await funded(cloud, store, 5)
    async with sdk(cloud, device.token, attempts) as client:
        completion = await client.chat.completions.create(model="any", messages=MESSAGES)
    assert completion.choices[0].message.content == "Rewritten prompt for gpt-4o-mini"
    assert completion.usage is not None and completion.usage.prompt_tokens == 9


async def test_a_stream_comes_back_as_sdk_chunks_with_usage(
    cloud: Cloud, store: Store, attempts: Attempts
) -> None:
    device = await funded(cloud, store, 5)
    async with sdk(cloud, device.token, attempts) as client:
        stream = await client.chat.completions.create(
            model="any",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Rewritten prompt for gpt-4o-mini"
    assert chunks[-1].usage is not None
    assert (await store.credits(device.id)).balance == 4


async def test_an_error_mid_stream_raises_in_the_sdk(
    cloud: Cloud, store: Store, upstream: FakeUpstream, attempts: Attempts
) -> None:
    device = await funded(cloud, store, 5)
    upstream.script(Script(cut_after_chunks=2))
    async with sdk(cloud, device.token, attempts) as client:
        stream = await client.chat.completions.create(model="any", messages=MESSAGES, stream=True)
        with pytest.raises(openai.APIError):
            async for _ in stream:
                pass


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_bad_token_is_authentication_error_in_one_attempt(
    cloud: Cloud, attempts: Attempts, stream: bool
) -> None:
    async with sdk(cloud, "not-a-token", attempts) as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            await client.chat.completions.create(model="any", messages=MESSAGES, stream=stream)
    assert caught.value.code == "invalid_token"
    assert attempts.count == 1


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_an_empty_wallet_is_a_402_status_error_in_one_attempt(
    cloud: Cloud, store: Store, attempts: Attempts, stream: bool
) -> None:
    device = await funded(cloud, store, 0)
    async with sdk(cloud, device.token, attempts) as client:
        with pytest.raises(openai.APIStatusError) as caught:
            await client.chat.completions.create(model="any", messages=MESSAGES, stream=stream)
    assert caught.value.status_code == 402
    assert caught.value.code == "insufficient_credits"
    assert attempts.count == 1


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_the_weekly_cap_is_a_503_internal_server_error_in_one_attempt(
    cloud: Cloud, store: Store, attempts: Attempts, stream: bool
) -> None:
    device = await funded(cloud, store, 5)
    await store.set_weekly_cap(Decimal(0))
    async with sdk(cloud, device.token, attempts) as client:
        with pytest.raises(openai.InternalServerError) as caught:
            await client.chat.completions.create(model="any", messages=MESSAGES, stream=stream)
    assert caught.value.status_code == 503
    assert attempts.count == 1
    assert (await store.credits(device.id)).balance == 5


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_the_device_rate_limit_is_a_rate_limit_error(
    start_cloud: StartCloud, store: Store, attempts: Attempts, stream: bool
) -> None:
    cloud = start_cloud(DEVICE_RPS="0.01")
    device = await funded(cloud, store, 5)
    async with sdk(cloud, device.token, attempts, max_retries=0) as client:
        await client.chat.completions.create(model="any", messages=MESSAGES)
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(model="any", messages=MESSAGES, stream=stream)
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert (await store.credits(device.id)).balance == 4
