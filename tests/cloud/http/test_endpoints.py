"""The credit, enhance, chat and model endpoints against the fake upstream, on both databases."""

from __future__ import annotations

import uuid
from decimal import Decimal

import orjson
import pytest
from sqlalchemy import select

from promptready.cloud.schema import usage_events
from promptready.cloud.store import Store
from promptready.enhance.ai import system_prompt
from promptready.pricing import cost_usd
from tests.cloud.http.conftest import Cloud, Device, StartCloud, give, register
from tests.fakes.upstream import PROMPT_TOKENS, FakeUpstream, Script, serve

CHAT = {"model": "anything", "messages": [{"role": "user", "content": "Say hello."}]}


async def test_credits_report_the_free_allowance_of_a_new_device(cloud: Cloud) -> None:
    async with cloud.client() as client:
        device = await register(client)
        response = await client.get("/api/v1/credits", headers=device.auth)
    assert response.status_code == 200
    assert response.json() == {
        "status": "OK",
        "credits_remaining": 25,
        "cohort": "A",
        "plan": "free",
        "buckets": {"free": 25, "purchased": 0, "subscription": 0},
        "reserved": 0,
        "used_this_month": 0,
    }


async def test_an_empty_wallet_is_402_insufficient_credits(cloud: Cloud, store: Store) -> None:
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 0)
        response = await client.get("/api/v1/credits", headers=device.auth)
    assert response.status_code == 402
    assert response.headers["x-should-retry"] == "false"
    assert response.json()["status"] == "INSUFFICIENT_CREDITS"
    assert response.json()["credits_remaining"] == 0


async def test_the_byok_migration_grants_once(cloud: Cloud) -> None:
    async with cloud.client() as client:
        device = await register(client)
        first = await client.post("/api/v1/credits/byok-migration", headers=device.auth)
        second = await client.post("/api/v1/credits/byok-migration", headers=device.auth)
    assert first.status_code == 200
    assert first.json()["credits_granted"] == 500
    assert first.json()["credits_remaining"] == 525
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "already_claimed"


async def test_enhance_charges_one_credit_and_uses_the_meta_prompt(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    upstream.script(Script(content="Write a haiku about rain, in English, 3 lines."))
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 3)
        response = await client.post(
            "/api/v1/enhance", headers=device.auth, json={"content": "haiku rain pls"}
        )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "SUCCESS",
        "processed_content": "Write a haiku about rain, in English, 3 lines.",
        "credits_charged": 1,
        "credits_remaining": 2,
    }
    sent = upstream.seen[-1]
    assert sent.body["model"] == "gpt-4o-mini"
    assert sent.body["messages"][0]["content"] == system_prompt()
    assert "haiku rain pls" in sent.body["messages"][1]["content"]
    assert sent.headers["authorization"] == "Bearer sk-master-key-for-tests"


async def test_a_model_that_says_not_a_prompt_costs_nothing(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    upstream.script(Script(content="NOT_A_PROMPT"))
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 3)
        response = await client.post(
            "/api/v1/enhance", headers=device.auth, json={"content": "asdf"}
        )
    assert response.json()["status"] == "NOT_A_PROMPT"
    assert response.json()["credits_charged"] == 0
    assert (await store.credits(device.id)).balance == 3
    assert (await store.weekly_spend()).committed_usd > 0  # the upstream still cost us


async def test_enhance_with_no_credits_is_402_before_any_upstream_call(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 0)
        response = await client.post(
            "/api/v1/enhance", headers=device.auth, json={"content": "x y"}
        )
    assert response.status_code == 402
    assert response.headers["x-should-retry"] == "false"
    body = response.json()
    assert body["status"] == "INSUFFICIENT_CREDITS"
    assert body["error"]["type"] == "insufficient_credits"
    assert upstream.seen == []


async def test_an_idempotent_retry_charges_once_and_replays(cloud: Cloud, store: Store) -> None:
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 5)
        headers = {**device.auth, "Idempotency-Key": "req-1"}
        first = await client.post("/api/v1/enhance", headers=headers, json={"content": "a b c"})
        again = await client.post("/api/v1/enhance", headers=headers, json={"content": "a b c"})
        chat_headers = {**device.auth, "Idempotency-Key": "chat-1"}
        chat = await client.post("/v1/chat/completions", headers=chat_headers, json=CHAT)
        chat_again = await client.post("/v1/chat/completions", headers=chat_headers, json=CHAT)
    assert first.status_code == again.status_code == 200
    assert again.json()["processed_content"] == first.json()["processed_content"]
    assert again.json()["credits_remaining"] == first.json()["credits_remaining"] == 4
    assert chat_again.json() == chat.json()
    assert (await store.credits(device.id)).balance == 3


async def test_the_same_idempotency_key_on_two_devices_charges_both(
    cloud: Cloud, store: Store
) -> None:
    async with cloud.client() as client:
        one, two = await register(client), await register(client)
        for device in (one, two):
            await give(store, device, 2)
            headers = {**device.auth, "Idempotency-Key": "shared"}
            response = await client.post(
                "/api/v1/enhance", headers=headers, json={"content": "a b"}
            )
            assert response.status_code == 200
    assert (await store.credits(one.id)).balance == 1
    assert (await store.credits(two.id)).balance == 1


async def test_chat_is_charged_by_the_upstream_usage(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 10)
        response = await client.post("/v1/chat/completions", headers=device.auth, json=CHAT)
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["usage"]["prompt_tokens"] == PROMPT_TOKENS
    sent = upstream.seen[-1].body
    assert sent["model"] == "gpt-4o-mini" and sent["max_tokens"] == 1024
    view = await store.credits(device.id)
    assert (view.balance, view.reserved) == (9, 0)  # 13 tokens: one credit, the hold released


LONG_ANSWER = " ".join(["word"] * 600)  # 609 tokens: 1 credit at multiplier 1, 2 at gpt-4o's 2


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_the_answer_says_what_the_cohort_model_was_charged(
    start_cloud: StartCloud, store: Store, upstream: FakeUpstream, stream: bool
) -> None:
    cloud = start_cloud(COHORTS="A:1:gpt-4o")  # the device cannot know its cohort's multiplier
    upstream.script(Script(content=LONG_ANSWER))
    body = {**CHAT, "stream": stream, "stream_options": {"include_usage": True}}
    if not stream:
        del body["stream_options"]
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 10)
        response = await client.post("/v1/chat/completions", headers=device.auth, json=body)
    assert response.status_code == 200, response.text
    if stream:
        events = [line[6:] for line in response.text.splitlines() if line.startswith("data: {")]
        [usage] = [u for u in (orjson.loads(e).get("usage") for e in events) if u]
    else:
        usage = response.json()["usage"]
    assert usage["credits_charged"] == 2
    assert (await store.credits(device.id)).balance == 10 - 2


async def test_the_wallet_says_how_many_credits_were_used_this_month(
    cloud: Cloud, store: Store
) -> None:
    async with cloud.client() as client:
        device = await register(client)
        await client.post("/v1/chat/completions", headers=device.auth, json=CHAT)
        await client.post("/v1/chat/completions", headers=device.auth, json=CHAT)
        wallet = (await client.get("/api/v1/credits", headers=device.auth)).json()
    assert (wallet["used_this_month"], wallet["credits_remaining"]) == (2, 23)


async def test_streamed_chat_relays_chunks_and_hides_usage_unless_asked(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 10)
        plain = await client.post(
            "/v1/chat/completions", headers=device.auth, json={**CHAT, "stream": True}
        )
        asked = await client.post(
            "/v1/chat/completions",
            headers=device.auth,
            json={**CHAT, "stream": True, "stream_options": {"include_usage": True}},
        )
    for response in (plain, asked):
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.text.endswith("data: [DONE]\n\n")
    assert '"usage"' not in plain.text
    assert '"usage"' in asked.text
    assert all(seen.body["stream_options"] == {"include_usage": True} for seen in upstream.seen)
    assert (await store.credits(device.id)).balance == 8


async def test_openrouter_only_fields_are_not_forwarded(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 5)
        body = {**CHAT, "usage": {"include": True}, "provider": {"order": ["x"]}, "top_p": 0.5}
        await client.post("/v1/chat/completions", headers=device.auth, json=body)
    sent = upstream.seen[-1].body
    assert "usage" not in sent and "provider" not in sent
    assert sent["top_p"] == 0.5


async def test_models_lists_the_cohort_models(cloud: Cloud) -> None:
    async with cloud.client() as client:
        device = await register(client)
        response = await client.get("/v1/models", headers=device.auth)
    assert [m["id"] for m in response.json()["data"]] == ["gpt-4o-mini"]


async def test_the_device_rate_limit_is_429_with_retry_after(
    start_cloud: StartCloud, store: Store
) -> None:
    cloud = start_cloud(DEVICE_RPS="1")
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 10)
        statuses = []
        for _ in range(4):
            response = await client.post(
                "/api/v1/enhance", headers=device.auth, json={"content": "a b"}
            )
            statuses.append(response.status_code)
    assert statuses.count(429) >= 1
    assert statuses[0] == 200
    assert 10 - (await store.credits(device.id)).balance == statuses.count(200)


async def test_the_weekly_cap_is_503_at_capacity_until_monday(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    await store.set_weekly_cap(Decimal(0))
    async with cloud.client() as client:
        device = await register(client)
        response = await client.post(
            "/api/v1/enhance", headers=device.auth, json={"content": "a b"}
        )
    assert response.status_code == 503
    assert response.json()["status"] == "SERVICE_AT_CAPACITY"
    assert response.headers["x-should-retry"] == "false"
    assert 0 < int(response.headers["retry-after"]) <= 7 * 24 * 3600
    assert response.json()["resets_at"].endswith("00:00:00+00:00")
    assert upstream.seen == []


async def test_health_and_metrics_answer(cloud: Cloud) -> None:
    async with cloud.client() as client:
        device = await register(client)
        await client.post("/api/v1/enhance", headers=device.auth, json={"content": "a b"})
        health = await client.get("/healthz")
        metrics = await client.get("/metrics")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    text = metrics.text
    for name in (
        "promptready_cloud_requests_total",
        "promptready_cloud_credits_debited_total",
        "promptready_cloud_cogs_usd_total",
        "promptready_cloud_upstream_latency_seconds_bucket",
        "promptready_cloud_weekly_spend_usd",
        "promptready_cloud_weekly_cap_usd 100.0",
    ):
        assert name in text, name
    assert 'route="/api/v1/enhance",status="200"' in text


async def test_an_unknown_path_is_an_openai_shaped_404(cloud: Cloud) -> None:
    async with cloud.client() as client:
        response = await client.get("/v2/whatever")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_a_known_path_with_the_wrong_method_is_405_and_charges_nothing(
    cloud: Cloud, store: Store
) -> None:
    async with cloud.client() as client:
        device = await register(client)
        wrong = await client.get("/api/v1/enhance", headers=device.auth)
        slash = await client.post("/v1/chat/completions/", headers=device.auth, json=CHAT)
        credits = await client.get("/api/v1/credits", headers=device.auth)
    assert wrong.status_code == 405
    assert slash.status_code == 307  # the router redirects to the exact path, unserved
    assert credits.json()["credits_remaining"] == 25


async def test_registering_a_device_twice_from_two_instances_gives_one_device(
    start_cloud: StartCloud,
) -> None:
    first, second = start_cloud(), start_cloud()
    device_id = uuid.uuid4()
    payload = orjson.dumps({"device_id": str(device_id)})
    async with first.client() as a, second.client() as b:
        one = await a.post("/api/v1/auth/device", content=payload)
        two = await b.post("/api/v1/auth/device", content=payload)
    assert sorted([one.status_code, two.status_code]) == [201, 409]


async def test_billing_routes_are_mounted_when_stripe_is_configured(
    start_cloud: StartCloud,
) -> None:
    off = start_cloud()
    on = start_cloud(billing={"STRIPE_API_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_test"})
    async with off.client() as client:
        assert (await client.post("/api/v1/billing/webhook", content=b"{}")).status_code == 404
    async with on.client() as client:
        unsigned = await client.post("/api/v1/billing/webhook", content=b"{}")
        anonymous = await client.get("/api/v1/billing/status")
    assert unsigned.status_code == 400  # billing's own answer: not provably from Stripe
    assert anonymous.status_code == 401


async def past_the_degrade_threshold(start_cloud: StartCloud, store: Store) -> tuple[Cloud, Device]:
    """A proxy degrading to gpt-4.1-nano, and a device whose one dear answer (on another
    instance) took the week's spend to 95% of the cap, past the default threshold."""
    dear = start_cloud(PRICES="gpt-4o-mini=1000/1000")  # one answer costs about $0.013
    cheap = start_cloud(DEGRADE_MODEL="gpt-4.1-nano")
    async with dear.client() as client:
        device = await register(client)
        await give(store, device, 10)
        await client.post("/v1/chat/completions", headers=device.auth, json=CHAT)
    committed = (await store.weekly_spend()).committed_usd
    await store.set_weekly_cap(committed / Decimal("0.95"))
    return cheap, device


async def test_above_the_degrade_threshold_requests_go_to_the_degrade_model(
    start_cloud: StartCloud, store: Store, upstream: FakeUpstream
) -> None:
    cheap, device = await past_the_degrade_threshold(start_cloud, store)
    async with cheap.client() as client:
        response = await client.post(
            "/v1/chat/completions", headers=device.auth, json={**CHAT, "max_tokens": 1}
        )
    assert response.status_code == 200, response.text
    assert upstream.seen[-1].body["model"] == "gpt-4.1-nano"


async def test_a_degraded_request_records_the_model_used_and_its_cost(
    start_cloud: StartCloud, store: Store, upstream: FakeUpstream
) -> None:
    cheap, device = await past_the_degrade_threshold(start_cloud, store)
    upstream.script(Script(content=" ".join(["word"] * 100)))  # gpt-4o-mini would cost 61 µ$
    async with cheap.client() as client:
        response = await client.post(
            "/v1/chat/completions", headers=device.auth, json={**CHAT, "max_tokens": 1}
        )
    assert response.status_code == 200, response.text
    async with store.transaction() as conn:
        events = (await conn.execute(select(usage_events).order_by(usage_events.c.id))).all()
    assert [e.model for e in events] == ["gpt-4o-mini", "gpt-4.1-nano"]
    degraded = events[-1]
    nano = cheap.config.rate_card.price("gpt-4.1-nano")
    assert nano is not None
    assert (degraded.prompt_tokens, degraded.completion_tokens) == (PROMPT_TOKENS, 100)
    assert Decimal(degraded.cost_micro) / 10**6 == cost_usd(nano, PROMPT_TOKENS, 100)  # 41 µ$
    assert degraded.credits == response.json()["usage"]["credits_charged"]


async def test_a_cohort_with_its_own_upstream_gets_its_own_key(
    start_cloud: StartCloud, store: Store, upstream: FakeUpstream
) -> None:
    other = FakeUpstream()
    with serve(other) as url:
        cloud = start_cloud(COHORT_A_BASE_URL=f"{url}/v1", COHORT_A_KEY="sk-cohort-a")
        async with cloud.client() as client:
            device = await register(client)
            await give(store, device, 3)
            response = await client.post("/v1/chat/completions", headers=device.auth, json=CHAT)
    assert response.status_code == 200
    assert upstream.seen == []
    assert other.seen[-1].headers["authorization"] == "Bearer sk-cohort-a"
