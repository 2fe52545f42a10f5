"""Bad bodies and failing upstreams: a clear answer, nothing charged (or only what was streamed),
and never a hold left open."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from promptready.cloud.store import Store
from promptready.cloud.store.checks import MAX_IDEMPOTENCY_KEY
from tests.cloud.conftest import StoreFactory
from tests.cloud.http.conftest import Cloud, Device, StartCloud, give, register
from tests.cloud.http.slow_upstream import SlowUpstream
from tests.fakes.upstream import FakeUpstream, Receive, Scope, Script, Send, serve

CHAT = {"model": "m", "messages": [{"role": "user", "content": "Say hello."}]}
STREAM = {**CHAT, "stream": True}
GOOD_BODY: dict[str, object] = {"/api/v1/enhance": {"content": "a b"}, "/v1/chat/completions": CHAT}


async def settled(store: Store, device: Device) -> tuple[int, int]:
    """(balance, reserved) once the proxy has resolved its holds."""
    view = await store.credits(device.id)
    return view.balance, view.reserved


async def post_with_five_credits(
    cloud: Cloud, store: Store, path: str, headers: dict[str, str] | None = None, **request: Any
) -> tuple[httpx.Response, Device]:
    """POST to ``path`` as a new device holding exactly 5 credits: the answer, and the device."""
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 5)
        response = await client.post(path, headers={**device.auth, **(headers or {})}, **request)
    return response, device


BAD_ENHANCE: list[tuple[str, bytes]] = [
    ("malformed JSON", b'{"content": '),
    ("a JSON array", b'["content"]'),
    ("an empty body", b""),
    ("content not a string", b'{"content": 42}'),
    ("empty content", b'{"content": "   "}'),
    ("an unknown format", b'{"content": "a b", "format": "pdf"}'),
    ("format not a string", b'{"content": "a b", "format": 1}'),
    ("invalid UTF-8", b'{"content": "caf\xe9 \xff"}'),
    ("huge nesting", b'{"content": "a", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("content over the length limit", orjson.dumps({"content": "word " * 30_000})),
    ("a NUL byte", b'{"content": "a\\u0000b"}'),
]


@pytest.mark.parametrize(("case", "body"), BAD_ENHANCE, ids=[c for c, _ in BAD_ENHANCE])
async def test_a_bad_enhance_body_is_400_and_charges_nothing(
    cloud: Cloud, store: Store, upstream: FakeUpstream, case: str, body: bytes
) -> None:
    response, device = await post_with_five_credits(cloud, store, "/api/v1/enhance", content=body)
    assert response.status_code == 400, case
    assert response.json()["error"]["message"].endswith(".")
    assert upstream.seen == []
    assert await settled(store, device) == (5, 0)


OVER_ONE_MEGABYTE = {
    "/api/v1/enhance": {"content": "x" * 1024**2},
    "/v1/chat/completions": {**CHAT, "messages": [{"role": "user", "content": "x" * 1024**2}]},
}


@pytest.mark.parametrize("path", OVER_ONE_MEGABYTE)
async def test_a_body_over_one_megabyte_is_413_and_charges_nothing(
    cloud: Cloud, store: Store, upstream: FakeUpstream, path: str
) -> None:
    big = orjson.dumps(OVER_ONE_MEGABYTE[path])
    response, device = await post_with_five_credits(cloud, store, path, content=big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert upstream.seen == []
    assert await settled(store, device) == (5, 0)


BAD_CHAT: list[tuple[str, object]] = [
    ("no messages", {"model": "m"}),
    ("messages not a list", {"messages": "hi"}),
    ("empty messages", {"messages": []}),
    ("a message not an object", {"messages": ["hi"]}),
    ("a message without a role", {"messages": [{"content": "hi"}]}),
    ("content a number", {"messages": [{"role": "user", "content": 5}]}),
    ("stream not a bool", {**CHAT, "stream": "yes"}),
    ("max_tokens negative", {**CHAT, "max_tokens": -1}),
    ("max_tokens huge", {**CHAT, "max_tokens": 10**9}),
    ("max_tokens a bool", {**CHAT, "max_tokens": True}),
    ("n too large", {**CHAT, "n": 100}),
    ("model not a string", {**CHAT, "model": 7}),
    ("stream_options not an object", {**CHAT, "stream": True, "stream_options": 1}),
]


@pytest.mark.parametrize(("case", "body"), BAD_CHAT, ids=[c for c, _ in BAD_CHAT])
async def test_a_bad_chat_body_is_400_and_charges_nothing(
    cloud: Cloud, store: Store, upstream: FakeUpstream, case: str, body: object
) -> None:
    response, device = await post_with_five_credits(cloud, store, "/v1/chat/completions", json=body)
    assert response.status_code == 400, case
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert upstream.seen == []
    assert await settled(store, device) == (5, 0)


BAD_CHAT_BYTES: list[tuple[str, bytes]] = [
    ("malformed JSON", b'{"messages": [{"role": "user", "content": "hi"}'),
    ("invalid UTF-8", b'{"messages": [{"role": "user", "content": "caf\xe9 \xff"}]}'),
    ("an empty body", b""),
    ("a JSON array", b'[{"role": "user", "content": "hi"}]'),
]


@pytest.mark.parametrize(("case", "body"), BAD_CHAT_BYTES, ids=[c for c, _ in BAD_CHAT_BYTES])
async def test_a_chat_body_that_is_not_a_json_object_is_400_and_charges_nothing(
    cloud: Cloud, store: Store, upstream: FakeUpstream, case: str, body: bytes
) -> None:
    path = "/v1/chat/completions"
    response, device = await post_with_five_credits(cloud, store, path, content=body)
    assert response.status_code == 400, case
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_json")
    assert error["message"].endswith(".")
    assert upstream.seen == []
    assert await settled(store, device) == (5, 0)


@pytest.mark.parametrize("path", GOOD_BODY)
async def test_an_idempotency_key_at_the_stores_limit_is_kept(
    cloud: Cloud, store: Store, path: str
) -> None:
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 5)
        headers = {**device.auth, "Idempotency-Key": "k" * MAX_IDEMPOTENCY_KEY}
        body = GOOD_BODY[path]
        first = await client.post(path, headers=headers, json=body)
        again = await client.post(path, headers=headers, json=body)
    assert first.status_code == again.status_code == 200
    assert await settled(store, device) == (4, 0)  # the retry replayed: charged once


@pytest.mark.parametrize("path", GOOD_BODY)
@pytest.mark.parametrize("length", [MAX_IDEMPOTENCY_KEY + 1, 4000], ids=["one over", "4000"])
async def test_an_idempotency_key_over_the_limit_is_400_naming_the_header(
    cloud: Cloud, store: Store, upstream: FakeUpstream, path: str, length: int
) -> None:
    headers = {"Idempotency-Key": "k" * length}
    body = GOOD_BODY[path]
    response, device = await post_with_five_credits(cloud, store, path, headers, json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_idempotency_key"
    assert error["message"].startswith(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} ")
    assert upstream.seen == []
    assert await settled(store, device) == (5, 0)


@pytest.mark.parametrize("path", GOOD_BODY)
@pytest.mark.parametrize(
    "step",
    [Script(status=500), Script(status=401), Script(malformed=True), Script(status=429)],
    ids=["500", "401", "malformed", "429"],
)
async def test_an_upstream_failure_is_502_and_releases_the_hold(
    cloud: Cloud, store: Store, upstream: FakeUpstream, path: str, step: Script
) -> None:
    upstream.script(step)
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 5)
        body = GOOD_BODY[path]
        response = await client.post(path, headers=device.auth, json=body)
    assert response.status_code == 502
    assert "Nothing was charged" in response.json()["error"]["message"]
    assert await settled(store, device) == (5, 0)


async def test_an_upstream_that_refuses_the_request_passes_its_400_on(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    upstream.script(Script(status=400))
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 5)
        response = await client.post("/v1/chat/completions", headers=device.auth, json=CHAT)
    assert response.status_code == 400
    assert await settled(store, device) == (5, 0)


async def test_an_upstream_timeout_is_502_and_charges_nothing(
    start_cloud: StartCloud, store: Store, upstream: FakeUpstream
) -> None:
    cloud = start_cloud(UPSTREAM_TIMEOUT_S="0.3")
    upstream.script(Script(hang_s=1.5), Script(hang_s=1.5))
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 5)
        chat = await client.post("/v1/chat/completions", headers=device.auth, json=STREAM)
        enhance = await client.post("/api/v1/enhance", headers=device.auth, json={"content": "a"})
    assert chat.status_code == enhance.status_code == 502
    assert "in time" in chat.json()["error"]["message"]
    assert await settled(store, device) == (5, 0)


async def test_a_stream_cut_mid_way_ends_with_an_error_chunk_and_charges_the_part(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    upstream.script(Script(cut_after_chunks=2, content="one two three four five"))
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 5)
        response = await client.post("/v1/chat/completions", headers=device.auth, json=STREAM)
    assert response.status_code == 200
    events = [line for line in response.text.split("\n\n") if line]
    assert events[-1] == "data: [DONE]"
    last = orjson.loads(events[-2].removeprefix("data: "))
    assert last["choices"][0]["finish_reason"] == "error"
    assert last["error"]["code"] == "upstream_error"
    assert await settled(store, device) == (4, 0)  # the partial cost: one credit


async def test_a_stream_cut_before_any_text_charges_nothing(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    upstream.script(Script(cut_after_chunks=0))
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 5)
        response = await client.post("/v1/chat/completions", headers=device.auth, json=STREAM)
    assert '"finish_reason":"error"' in response.text
    assert await settled(store, device) == (5, 0)


async def test_a_stream_without_usage_is_charged_by_the_fallback_never_zero(
    cloud: Cloud, store: Store, upstream: FakeUpstream
) -> None:
    upstream.script(Script(no_usage=True))
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 5)
        response = await client.post("/v1/chat/completions", headers=device.auth, json=STREAM)
    assert response.text.endswith("data: [DONE]\n\n")
    assert await settled(store, device) == (4, 0)
    assert (await store.weekly_spend()).committed_usd > 0


@pytest.fixture
def slow() -> Iterator[SlowUpstream]:
    fake = SlowUpstream()
    with serve(fake) as url:
        fake.base_url = f"{url}/v1"
        yield fake


async def test_a_client_that_leaves_mid_stream_is_charged_the_part_and_the_hold_closes(
    start_cloud: StartCloud, store: Store, slow: SlowUpstream
) -> None:
    cloud = start_cloud(UPSTREAM_BASE_URL=slow.base_url)
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 5)
        async with client.stream(
            "POST", "/v1/chat/completions", headers=device.auth, json=STREAM
        ) as response:
            seen = 0
            async for _ in response.aiter_bytes():
                seen += 1
                if seen >= 3:
                    break  # leaving the block closes the connection
    for _ in range(100):
        if (await settled(store, device))[1] == 0 and slow.streams_abandoned:
            break
        await asyncio.sleep(0.05)
    assert await settled(store, device) == (4, 0)
    assert slow.streams_abandoned == 1


def _redirecting(target: str) -> object:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        headers = [(b"location", target.encode()), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 307, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    return app


async def test_an_upstream_redirect_is_not_followed(
    start_cloud: StartCloud, store: Store, upstream: FakeUpstream
) -> None:
    with serve(_redirecting(f"{upstream.base_url}/chat/completions")) as url:  # type: ignore[arg-type]
        cloud = start_cloud(UPSTREAM_BASE_URL=f"{url}/v1")
        async with cloud.client() as client:
            device = await register(client)
            await give(store, device, 5)
            response = await client.post("/v1/chat/completions", headers=device.auth, json=CHAT)
    assert response.status_code == 502
    assert upstream.seen == []  # the master key never went where the redirect pointed
    assert await settled(store, device) == (5, 0)


async def test_holds_of_a_crashed_process_expire_through_the_sweeper(
    start_cloud: StartCloud, make_store: StoreFactory
) -> None:
    cloud = start_cloud(HOLD_TTL_S="1")
    crashed = await make_store(hold_ttl_s=1)
    async with cloud.client() as client:
        device = await register(client)
    await crashed.credits(device.id)
    await crashed.admit(device.id, credits=3, cost_usd=Decimal("0.01"), idempotency_key=None)
    assert (await crashed.credits(device.id)).reserved == 3
    for _ in range(60):  # the proxy sweeps every 0.2 s in tests; the hold lives 1 s
        if (await crashed.credits(device.id)).reserved == 0:
            break
        await asyncio.sleep(0.1)
    view = await crashed.credits(device.id)
    assert (view.balance, view.reserved) == (25, 0)


async def test_a_client_gone_before_its_body_arrived_charges_nothing(
    cloud: Cloud, store: Store
) -> None:
    async with cloud.client() as client:
        device = await register(client)
        await give(store, device, 5)
    host, port = cloud.url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST /api/v1/enhance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {device.token}\r\n"
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"content": '
    )
    writer.write(head.encode())
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.2)
    assert await settled(store, device) == (5, 0)
