"""The official openai SDK against the gateway: sync and async, JSON and streams, errors."""

from __future__ import annotations

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from tests.fakes.upstream import Script
from tests.gateway.conftest import UPSTREAM_KEY, RunningGateway


def client(gw: RunningGateway, token: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url, api_key=token or gw.token, max_retries=0)


MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]


def test_chat_completion_round_trip(gateway: RunningGateway) -> None:
    reply = client(gateway).chat.completions.create(model="fake/gpt-4o-mini", messages=MESSAGES)
    assert reply.choices[0].message.content == "Rewritten prompt for gpt-4o-mini"
    assert reply.usage is not None and reply.usage.total_tokens == 13


def test_bare_model_goes_to_the_default_provider(gateway: RunningGateway) -> None:
    reply = client(gateway).chat.completions.create(model="fake-gpt", messages=MESSAGES)
    assert reply.choices[0].message.content == "Rewritten prompt for fake-gpt"
    assert gateway.upstream.seen[-1].body["model"] == "fake-gpt"


def test_upstream_gets_its_own_key_not_the_app_token(gateway: RunningGateway) -> None:
    client(gateway).chat.completions.create(model="fake-gpt", messages=MESSAGES)
    assert gateway.upstream.seen[-1].headers["authorization"] == f"Bearer {UPSTREAM_KEY}"


def test_streaming_yields_chunks_and_no_usage_unless_asked(gateway: RunningGateway) -> None:
    stream = client(gateway).chat.completions.create(
        model="fake-gpt",
        messages=MESSAGES,
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Rewritten prompt for fake-gpt"
    assert all(c.usage is None for c in chunks)
    assert gateway.upstream.seen[-1].body["stream_options"] == {"include_usage": True}


def test_streaming_with_usage_when_asked(gateway: RunningGateway) -> None:
    stream = client(gateway).chat.completions.create(
        model="fake-gpt",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    usage = [c.usage for c in stream if c.usage is not None]
    assert len(usage) == 1 and usage[0].completion_tokens == 4


async def test_async_client_streams(gateway: RunningGateway) -> None:
    async_client = openai.AsyncOpenAI(base_url=gateway.url, api_key=gateway.token, max_retries=0)
    stream = await async_client.chat.completions.create(
        model="fake-gpt",
        messages=MESSAGES,
        stream=True,
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    await async_client.close()
    assert text == "Rewritten prompt for fake-gpt"


def test_tools_and_unknown_fields_pass_through(gateway: RunningGateway) -> None:
    tools: list[ChatCompletionToolParam] = [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    ]
    client(gateway).chat.completions.create(
        model="fake-gpt",
        messages=MESSAGES,
        tools=tools,
        seed=7,
        logprobs=True,
        n=1,
        extra_body={"vendor_field": {"x": 1}},
    )
    body = gateway.upstream.seen[-1].body
    assert body["tools"] == tools and body["seed"] == 7 and body["logprobs"] is True
    assert body["vendor_field"] == {"x": 1}


def test_upstream_429_raises_the_sdks_rate_limit_error_with_retry_after(
    gateway: RunningGateway,
) -> None:
    gateway.upstream.script(Script(status=429, retry_after="7"))
    with pytest.raises(openai.RateLimitError) as err:
        client(gateway).chat.completions.create(model="fake-gpt", messages=MESSAGES)
    assert err.value.response.headers["retry-after"] == "7"
    assert err.value.response.headers["x-request-id"].startswith("req_")


def test_wrong_token_raises_authentication_error(gateway: RunningGateway) -> None:
    with pytest.raises(openai.AuthenticationError) as err:
        client(gateway, "pr-wrong").chat.completions.create(model="fake-gpt", messages=MESSAGES)
    assert err.value.code == "invalid_api_key"
    assert gateway.upstream.seen == []


def test_virtual_offline_model_returns_the_enhanced_prompt(gateway: RunningGateway) -> None:
    reply = client(gateway).chat.completions.create(
        model="promptready/offline",
        messages=[{"role": "user", "content": "write a haiku about tea"}],
    )
    assert "haiku about tea" in (reply.choices[0].message.content or "")
    assert gateway.upstream.seen == []


def test_models_lists_the_virtual_models(gateway: RunningGateway) -> None:
    ids = [m.id for m in client(gateway).models.list()]
    assert "promptready/offline" in ids and "promptready/enhance" in ids
