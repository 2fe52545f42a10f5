"""What the proxy records a call as costing us: the upstream's own figure (``usage.cost``) when it
gives one, else the rate card's price of the tokens (cached prompt tokens at their price), and for
a stream without usage the documented fallback, never zero."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from promptready.cloud.routes.costs import ESTIMATE_MODEL
from promptready.cloud.store import Store
from promptready.pricing import ModelPrice, cost_usd, load_rate_card
from promptready.tokens import count_messages, count_text
from tests.cloud.http.conftest import Cloud, StartCloud, give, register
from tests.fakes.upstream import PROMPT_TOKENS, FakeUpstream, Script

MODEL = "gpt-4o"  # dear enough that a handful of tokens costs whole micro-dollars
REPLY = f"Rewritten prompt for {MODEL}"  # what the fake upstream answers
REPLY_TOKENS = len(REPLY.split(" "))  # the fake counts a word a token
MESSAGES = [{"role": "user", "content": "Say hello."}]
CHAT = {"model": "m", "messages": MESSAGES}
STREAM = {**CHAT, "stream": True}
BODIES = pytest.mark.parametrize("body", [CHAT, STREAM], ids=["json", "stream"])


def price() -> ModelPrice:
    found = load_rate_card().price(MODEL)
    assert found is not None
    return found


@pytest.fixture
def cloud(start_cloud: StartCloud) -> Cloud:
    """The proxy, its one cohort on ``MODEL``."""
    return start_cloud(COHORTS=f"A:1:{MODEL}")


async def spent(store: Store) -> Decimal:
    return (await store.weekly_spend()).committed_usd


async def cost_of(
    cloud: Cloud, store: Store, upstream: FakeUpstream, body: dict[str, Any], step: Script
) -> Decimal:
    """What the proxy recorded one request (from a new device) as costing, the upstream
    answering as ``step`` says."""
    upstream.script(step)
    before = await spent(store)
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 50)
        response = await client.post("/v1/chat/completions", headers=device.auth, json=body)
    assert response.status_code == 200, response.text
    return await spent(store) - before


@BODIES
async def test_an_answer_with_usage_cost_is_charged_that_cost(
    cloud: Cloud, store: Store, upstream: FakeUpstream, body: dict[str, Any]
) -> None:
    cost = await cost_of(cloud, store, upstream, body, Script(usage={"cost": 0.0123}))
    assert cost == Decimal("0.012300")


async def test_an_answer_without_usage_cost_is_charged_the_price_of_its_tokens(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    cost = await cost_of(cloud, store, upstream, CHAT, Script())
    assert cost == cost_usd(price(), PROMPT_TOKENS, REPLY_TOKENS) > 0


@pytest.mark.parametrize("bad", [-0.5, "0.0123", True, 1e300], ids=repr)
async def test_a_bad_usage_cost_is_ignored_and_the_tokens_are_priced(
    cloud: Cloud, store: Store, upstream: FakeUpstream, bad: object
) -> None:
    cost = await cost_of(cloud, store, upstream, CHAT, Script(usage={"cost": bad}))
    assert cost == cost_usd(price(), PROMPT_TOKENS, REPLY_TOKENS)


@BODIES
async def test_an_answer_with_cached_tokens_is_charged_less_than_without(
    cloud: Cloud, store: Store, upstream: FakeUpstream, body: dict[str, Any]
) -> None:
    prompt = {"prompt_tokens": 1000}
    cached = {**prompt, "prompt_tokens_details": {"cached_tokens": 800}}
    full = await cost_of(cloud, store, upstream, body, Script(usage=prompt))
    less = await cost_of(cloud, store, upstream, body, Script(usage=cached))
    assert less < full
    assert full == cost_usd(price(), 1000, REPLY_TOKENS)
    assert less == cost_usd(price(), 1000, REPLY_TOKENS, cached_tokens=800)


async def test_a_stream_without_usage_is_charged_the_fallback_never_zero(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    cost = await cost_of(cloud, store, upstream, STREAM, Script(no_usage=True))
    # The prompt as counted locally, the completion as the tokens of the text streamed.
    prompt = count_messages(MESSAGES, ESTIMATE_MODEL).tokens
    streamed = count_text(REPLY, ESTIMATE_MODEL).tokens
    assert cost == cost_usd(price(), prompt, streamed) > 0


@BODIES
async def test_a_usage_without_a_completion_count_is_charged_by_the_fallback(
    cloud: Cloud, store: Store, upstream: FakeUpstream, body: dict[str, Any]
) -> None:
    step = Script(usage={"completion_tokens": None})  # the field left out, not zero
    cost = await cost_of(cloud, store, upstream, body, step)
    prompt = count_messages(MESSAGES, ESTIMATE_MODEL).tokens
    assert cost == cost_usd(price(), prompt, count_text(REPLY, ESTIMATE_MODEL).tokens) > 0
