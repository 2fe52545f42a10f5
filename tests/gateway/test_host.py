"""Strict Host and request targets, probed over raw sockets: every probe is refused (400 when
malformed, 421 when it names another server) before the token is looked at, and nothing reaches
the upstream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from promptready.gateway.app import GatewayConfig
from tests.fakes.upstream import FakeUpstream
from tests.gateway.raw import Live, RawResponse, exchange, live_gateway

CHAT = orjson.dumps({"model": "fake-gpt", "messages": [{"role": "user", "content": "hi"}]})


@pytest.fixture
def live(upstream: FakeUpstream, tmp_path: Path) -> Iterator[Live]:
    with live_gateway(upstream, tmp_path) as running:
        yield running


def send(live: Live, raw: bytes) -> RawResponse:
    response = exchange(live.port, raw)
    assert response is not None, "the server closed the connection without an answer"
    return response


def assert_refused(response: RawResponse, status: int, code: str, upstream: FakeUpstream) -> None:
    assert response.status == status, response.body
    assert response.error_code() == code
    assert upstream.seen == []


def test_a_loopback_host_with_the_serving_port_is_served(
    live: Live, upstream: FakeUpstream
) -> None:
    for host in (f"127.0.0.1:{live.port}", f"localhost:{live.port}", "localhost", "127.0.0.1"):
        assert send(live, live.request(host=host, body=CHAT)).status == 200
    assert len(upstream.seen) == 4


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}@evil.com",
        "localhost:evil.com",
        "[::1].evil.com",
        "localhost:{port}:{port}",
        "local host",
        "",
    ],
)
def test_a_malformed_host_is_400_even_with_a_token(
    live: Live, upstream: FakeUpstream, host: str
) -> None:
    raw = live.request(host=host.format(port=live.port), body=CHAT)
    assert_refused(send(live, raw), 400, "invalid_host", upstream)


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "localhost:1", "127.0.0.2:{port}", "[::2]"]
)
def test_a_foreign_name_or_port_is_421(live: Live, upstream: FakeUpstream, host: str) -> None:
    raw = live.request(host=host.format(port=live.port), body=CHAT)
    assert_refused(send(live, raw), 421, "forbidden_host", upstream)


@pytest.mark.parametrize("order", ["foreign last", "foreign first", "both loopback"])
def test_two_host_headers_are_400_whichever_comes_last(
    live: Live, upstream: FakeUpstream, order: str
) -> None:
    ours, evil = f"127.0.0.1:{live.port}", "evil.example"
    first, second = {"foreign last": (ours, evil), "foreign first": (evil, ours)}.get(
        order, (ours, ours)
    )
    raw = live.request(host=first, headers=[("Host", second)], body=CHAT)
    assert_refused(send(live, raw), 400, "invalid_host", upstream)


def test_no_host_header_is_400(live: Live, upstream: FakeUpstream) -> None:
    assert_refused(send(live, live.request(host=None, body=CHAT)), 400, "invalid_host", upstream)


def test_the_host_check_comes_before_the_token(live: Live, upstream: FakeUpstream) -> None:
    raw = b"GET /v1/models HTTP/1.1\r\nHost: localhost:evil.com\r\n\r\n"
    assert_refused(send(live, raw), 400, "invalid_host", upstream)
    raw = b"GET /v1/models HTTP/1.1\r\nHost: evil.example\r\n\r\n"
    assert_refused(send(live, raw), 421, "forbidden_host", upstream)


@pytest.mark.parametrize(
    "target",
    [
        "http://evil.com/v1/chat/completions",
        "http://127.0.0.1:{port}/v1/chat/completions",
        "//evil.com/v1/chat/completions",
        "*",
    ],
)
def test_only_origin_form_targets_are_served(
    live: Live, upstream: FakeUpstream, target: str
) -> None:
    raw = live.request(target=target.format(port=live.port), body=CHAT)
    response = send(live, raw)
    if target.startswith("//"):  # a path that starts with two slashes: no such endpoint
        assert_refused(response, 404, "not_found", upstream)
        return
    assert_refused(response, 400, "invalid_request", upstream)
    assert response.header("connection") == "close"


def test_a_configured_host_name_is_accepted(upstream: FakeUpstream, tmp_path: Path) -> None:
    config = GatewayConfig(allowed_hosts=frozenset({b"promptready.internal"}))
    with live_gateway(upstream, tmp_path, config) as live:
        assert send(live, live.request(host="promptready.internal", body=CHAT)).status == 200
        raw = live.request(host="promptready.internal:1", body=CHAT)
        assert send(live, raw).status == 421
