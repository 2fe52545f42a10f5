"""Hostile and malformed requests over real HTTP: each a clear OpenAI-shaped error, and nothing
reaches the upstream."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from promptready.gateway.app import GatewayConfig
from tests.fakes.upstream import FakeUpstream, serve
from tests.gateway.conftest import UPSTREAM_KEY, RunningGateway, make_gateway

CHAT = {"model": "fake-gpt", "messages": [{"role": "user", "content": "hi"}]}


def post(
    gw: RunningGateway,
    *,
    json: object = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    merged = {"Authorization": f"Bearer {gw.token}", **(headers or {})}
    url = f"{gw.url}/chat/completions"
    return httpx.post(url, json=json, content=content, headers=merged, timeout=10)


def assert_refused(response: httpx.Response, status: int, code: str, gw: RunningGateway) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and isinstance(error["code"], str)
    assert set(error) == {"message", "type", "param", "code"}
    assert response.headers["x-request-id"].startswith("req_")
    assert gw.upstream.seen == []
    assert UPSTREAM_KEY not in response.text


def test_no_token(gateway: RunningGateway) -> None:
    response = httpx.post(f"{gateway.url}/chat/completions", json=CHAT)
    assert_refused(response, 401, "invalid_api_key", gateway)
    assert response.headers["x-should-retry"] == "false"


def test_wrong_token(gateway: RunningGateway) -> None:
    response = post(gateway, json=CHAT, headers={"Authorization": "Bearer pr-nope"})
    assert_refused(response, 401, "invalid_api_key", gateway)


def test_revoked_token(gateway: RunningGateway) -> None:
    token = gateway.new_app("short-lived")
    gateway.apps.revoke("short-lived")
    response = post(gateway, json=CHAT, headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, 401, "invalid_api_key", gateway)


def test_foreign_host_is_refused_even_with_a_token(gateway: RunningGateway) -> None:
    response = post(gateway, json=CHAT, headers={"Host": "evil.example"})
    assert_refused(response, 421, "forbidden_host", gateway)


def test_browser_origin_is_refused(gateway: RunningGateway) -> None:
    response = post(gateway, json=CHAT, headers={"Origin": "https://evil.example"})
    assert_refused(response, 403, "forbidden_origin", gateway)
    assert "access-control-allow-origin" not in response.headers


def test_allow_listed_origin_is_accepted(upstream: FakeUpstream, tmp_path: Path) -> None:
    config = GatewayConfig(allowed_origins=frozenset({b"http://localhost:3000"}))
    app = make_gateway(upstream, tmp_path, config)
    _, token = app.apps.create("web")
    with serve(app, lifespan="on") as url:
        response = httpx.post(
            f"{url}/v1/chat/completions",
            json=CHAT,
            headers={"Authorization": f"Bearer {token}", "Origin": "http://localhost:3000"},
        )
    assert response.status_code == 200


def test_oversized_body(upstream: FakeUpstream, tmp_path: Path) -> None:
    app = make_gateway(upstream, tmp_path, GatewayConfig(max_body_bytes=1000))
    _, token = app.apps.create("big")
    with serve(app, lifespan="on") as url:
        response = httpx.post(
            f"{url}/v1/chat/completions",
            content=b'{"model": "x", "messages": ["' + b"a" * 5000 + b'"]}',
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert upstream.seen == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b'{"model": "caf\xe9", "messages": []}', "invalid_json"),  # not UTF-8
        (b'{"messages": [{"role": "user", "content": "x"}]}', "invalid_model"),
        (b'{"model": 7, "messages": [{"role": "user", "content": "x"}]}', "invalid_model"),
        (b'{"model": "fake-gpt", "messages": "hi"}', "invalid_messages"),
        (b'{"model": "fake-gpt", "messages": []}', "invalid_messages"),
        (b'{"model": "fake-gpt", "messages": [{}], "stream": "yes"}', "invalid_type"),
        (b'{"model": "fake-gpt", "messages": [{}], "stream_options": []}', "invalid_type"),
        (b'{"model": "fake-gpt", "messages": [{}], "max_tokens": "5"}', "invalid_type"),
        (b'{"model": "fake-gpt", "messages": [{}], "n": 0}', "invalid_type"),
        (b'{"model": "groq/llama-3.1-8b-instant", "messages": [{}]}', "model_not_available"),
    ],
)
def test_malformed_bodies(gateway: RunningGateway, body: bytes, code: str) -> None:
    assert_refused(post(gateway, content=body), 400, code, gateway)


def test_request_cannot_choose_the_upstream(
    gateway: RunningGateway, upstream: FakeUpstream
) -> None:
    other = FakeUpstream()
    with serve(other) as other_url:
        body = {**CHAT, "api_base": other_url + "/v1", "base_url": other_url + "/v1"}
        assert post(gateway, json=body).status_code == 200
    assert other.seen == []
    assert len(upstream.seen) == 1


def test_no_management_endpoints_on_the_port(gateway: RunningGateway) -> None:
    for path in ("/v1/tokens", "/tokens", "/settings", "/v1/keys", "/admin"):
        response = httpx.get(
            f"{gateway.url.removesuffix('/v1')}{path}",
            headers={"Authorization": f"Bearer {gateway.token}"},
        )
        assert response.status_code == 404


def test_health_needs_no_token_but_a_loopback_host(gateway: RunningGateway) -> None:
    base = gateway.url.removesuffix("/v1")
    assert httpx.get(f"{base}/health").json()["status"] == "ok"
    assert httpx.get(f"{base}/health", headers={"Host": "evil.example"}).status_code == 421


def test_model_allow_list_is_enforced(gateway: RunningGateway) -> None:
    from promptready.gateway.apps import AppLimits

    token = gateway.new_app("narrow", AppLimits(models=("promptready/offline",)))
    response = post(gateway, json=CHAT, headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, 403, "model_not_allowed", gateway)


def test_rpm_limit_answers_429_with_retry_after(gateway: RunningGateway) -> None:
    from promptready.gateway.apps import AppLimits

    token = gateway.new_app("slow", AppLimits(rpm=1))
    auth = {"Authorization": f"Bearer {token}"}
    assert post(gateway, json=CHAT, headers=auth).status_code == 200
    response = post(gateway, json=CHAT, headers=auth)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert int(response.headers["retry-after"]) > 0
    assert len(gateway.upstream.seen) == 1


def test_cache_hit_is_served_without_the_upstream(gateway: RunningGateway) -> None:
    from promptready.gateway.apps import AppLimits

    token = gateway.new_app("cached", AppLimits(cache_ttl_s=60))
    auth = {"Authorization": f"Bearer {token}"}
    first = post(gateway, json=CHAT, headers=auth)
    second = post(gateway, json=CHAT, headers=auth)
    streamed = post(gateway, json={**CHAT, "stream": True}, headers=auth)
    assert first.json() == second.json()
    assert second.headers["x-promptready-cache"] == "hit"
    assert "x-promptready-cache" not in first.headers
    assert streamed.headers["x-promptready-cache"] == "hit"
    assert streamed.text.endswith("data: [DONE]\n\n")
    assert len(gateway.upstream.seen) == 1


def test_a_model_name_cannot_inject_response_headers(gateway: RunningGateway) -> None:
    response = post(gateway, json={**CHAT, "model": "fake-gpt\r\nset-cookie: x=1"})
    assert response.status_code == 200
    assert response.headers["x-promptready-model"] == "fake-gpt%0D%0Aset-cookie: x=1"
    assert "set-cookie" not in response.headers


def test_a_streamed_answer_fills_the_cache_for_json_and_stream_requests(
    gateway: RunningGateway,
) -> None:
    from promptready.gateway.apps import AppLimits

    token = gateway.new_app("streams", AppLimits(cache_ttl_s=60))
    auth = {"Authorization": f"Bearer {token}"}
    streamed = post(gateway, json={**CHAT, "stream": True}, headers=auth)
    as_json = post(gateway, json=CHAT, headers=auth)
    again = post(gateway, json={**CHAT, "stream": True}, headers=auth)
    assert "x-promptready-cache" not in streamed.headers
    assert as_json.headers["x-promptready-cache"] == "hit"
    assert again.headers["x-promptready-cache"] == "hit"
    words = [
        orjson.loads(line[6:])["choices"][0]["delta"].get("content") or ""
        for line in streamed.text.splitlines()
        if line.startswith("data: {") and orjson.loads(line[6:])["choices"]
    ]
    assert as_json.json()["choices"][0]["message"]["content"] == "".join(words)
    assert len(gateway.upstream.seen) == 1
