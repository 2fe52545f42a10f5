"""Admission races and retries over real HTTP, on SQLite and PostgreSQL (billing-anchors §8):

- case 7: parallel chat requests from one device whose holds together exceed its balance are
  admitted only while they fit; the rest get 402 before any upstream call;
- case 18: a request retried with the same ``Idempotency-Key`` after the proxy failed to settle a
  successful upstream call is charged once, and the retry gets an answer rather than a 409.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from promptready.cloud.records import CreditsView, Replay, UsageRecord
from promptready.cloud.routes.costs import ESTIMATE_MODEL
from promptready.cloud.store import Store
from promptready.tokens import count_messages
from tests.cloud.http.conftest import Cloud, Device, give, register
from tests.fakes.upstream import PROMPT_TOKENS as UPSTREAM_PROMPT_TOKENS
from tests.fakes.upstream import FakeUpstream, Script

PARALLEL = 20
MESSAGES = [{"role": "user", "content": "Tell me a long story about a lighthouse."}]
# Each request holds its prompt plus max_tokens: 5,000 tokens, 5 credits at 1,000 tokens a
# credit. The fake answers 4,000 words, so each is charged its hold exactly: a settle frees
# nothing, and which requests fit does not depend on how fast the first ones finish.
HOLD_TOKENS = 5_000
HOLD = 5
ANSWER_WORDS = 4_000
FIT = 7
BALANCE = FIT * HOLD + HOLD - 1  # room for 7 holds, not 8
KEY = {"Idempotency-Key": "retry-me-0001"}


def long_chat() -> dict[str, Any]:
    prompt = count_messages(MESSAGES, ESTIMATE_MODEL).tokens
    return {"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": HOLD_TOKENS - prompt}


def chat_calls(upstream: FakeUpstream) -> int:
    """Chat requests that reached the fake upstream."""
    return sum(seen.path.endswith("/chat/completions") for seen in upstream.seen)


async def test_parallel_chats_beyond_the_balance_are_refused_before_the_upstream(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    assert UPSTREAM_PROMPT_TOKENS + ANSWER_WORDS <= HOLD_TOKENS  # the charge is the hold
    upstream.script(*[Script(content=" ".join(["word"] * ANSWER_WORDS))] * PARALLEL)
    limits = httpx.Limits(max_connections=PARALLEL)
    async with cloud.client(limits=limits) as client:
        device = await register(client)
        await give(store, device, BALANCE)
        responses = await asyncio.gather(
            *(
                client.post("/v1/chat/completions", headers=device.auth, json=long_chat())
                for _ in range(PARALLEL)
            )
        )
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: FIT, 402: PARALLEL - FIT}
    assert chat_calls(upstream) == FIT
    charges = [r.json()["usage"]["credits_charged"] for r in responses if r.status_code == 200]
    assert charges == [HOLD] * FIT
    refused = [r.json()["error"]["code"] for r in responses if r.status_code == 402]
    assert set(refused) == {"insufficient_credits"}
    view = await store.credits(device.id)
    assert (view.balance, view.reserved) == (BALANCE - FIT * HOLD, 0)
    assert await store.check_invariants() == []


@dataclass
class SettleFaults:
    """The next ``failures`` settles raise as a dropped database connection would: before the
    real settle runs (nothing written) or after it committed (the reply lost)."""

    failures: int = 0
    after_commit: bool = False
    calls: int = 0


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> SettleFaults:
    """Inject settle failures into the app's store.

    ``Store.settle`` is patched on the class, the one method: the app opens its own store in
    the server thread's event loop (asyncpg connections belong to their loop), so the test
    cannot hand it a wrapped instance; everything else is the real store on the real database.
    """
    injected = SettleFaults()
    real = Store.settle

    def fail() -> None:
        injected.failures -= 1
        raise OperationalError("settle", None, ConnectionResetError("injected: connection lost"))

    async def settle(
        self: Store, hold_id: str, usage: UsageRecord, *, response: Replay | None = None
    ) -> CreditsView:
        injected.calls += 1
        if injected.failures and not injected.after_commit:
            fail()
        view = await real(self, hold_id, usage, response=response)
        if injected.failures:
            fail()
        return view

    monkeypatch.setattr(Store, "settle", settle)
    return injected


async def funded(client: httpx.AsyncClient, store: Store) -> Device:
    device = await register(client)
    await give(store, device, 100)
    return device


async def chat(client: httpx.AsyncClient, device: Device) -> httpx.Response:
    """The same small chat, always with the same Idempotency-Key."""
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": 50}
    return await client.post("/v1/chat/completions", headers=device.auth | KEY, json=body)


async def balance_and_reserved(store: Store, device: Device) -> tuple[int, int]:
    view = await store.credits(device.id)
    return view.balance, view.reserved


def charged(response: httpx.Response) -> int:
    return int(response.json()["usage"]["credits_charged"])


# Lost before its commit, the second try settles; lost after it, the second try finds the hold
# settled and the answer stored. Either way: one charge, and the retry is the replayed answer.
@pytest.mark.parametrize("after_commit", [False, True], ids=["lost-before-commit", "reply-lost"])
async def test_a_settle_that_fails_once_is_retried_and_the_key_replays_the_one_charge(
    cloud: Cloud, store: Store, upstream: FakeUpstream, faults: SettleFaults, after_commit: bool
) -> None:
    faults.failures, faults.after_commit = 1, after_commit
    async with cloud.client() as client:
        device = await funded(client, store)
        first = await chat(client, device)
        again = await chat(client, device)
    assert first.status_code == 200 and faults.calls == 2
    assert (again.status_code, again.content) == (200, first.content)
    assert chat_calls(upstream) == 1
    assert await balance_and_reserved(store, device) == (100 - charged(first), 0)


async def test_a_settle_that_keeps_failing_releases_the_hold_and_the_key_runs_again_charged_once(
    cloud: Cloud, store: Store, upstream: FakeUpstream, faults: SettleFaults
) -> None:
    faults.failures = 2
    async with cloud.client() as client:
        device = await funded(client, store)
        first = await chat(client, device)
        after_failure = await balance_and_reserved(store, device)
        again = await chat(client, device)
    assert (first.status_code, first.json()["error"]["code"]) == (500, "internal_error")
    assert after_failure == (100, 0)  # nothing charged, nothing left held
    assert again.status_code == 200
    assert chat_calls(upstream) == 2  # the failed answer was paid upstream, not charged
    assert await balance_and_reserved(store, device) == (100 - charged(again), 0)


async def test_a_stream_whose_settle_keeps_failing_is_delivered_and_leaves_no_hold(
    cloud: Cloud, store: Store, faults: SettleFaults
) -> None:
    faults.failures = 2
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": 50, "stream": True}
    async with cloud.client() as client:
        device = await funded(client, store)
        response = await client.post("/v1/chat/completions", headers=device.auth, json=body)
    assert response.status_code == 200 and response.text.endswith("data: [DONE]\n\n")
    assert await balance_and_reserved(store, device) == (100, 0)  # given away, never held on
