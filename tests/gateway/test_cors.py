"""CORS for allow-listed browser origins: preflights answered without a token and only for those
origins, Access-Control-Allow-Origin on their real answers, everything else refused as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from promptready.gateway.app import GatewayConfig
from tests.fakes.upstream import FakeUpstream, serve
from tests.gateway.conftest import make_gateway

PAGE = "http://localhost:3000"
CHAT = {"model": "fake-gpt", "messages": [{"role": "user", "content": "hi"}]}
ASKS = {
    "Origin": PAGE,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os",
}


@pytest.fixture
def web(upstream: FakeUpstream, tmp_path: Path) -> Iterator[tuple[str, str]]:
    config = GatewayConfig(allowed_origins=frozenset({PAGE.encode()}))
    app = make_gateway(upstream, tmp_path, config)
    _, token = app.apps.create("web")
    with serve(app, lifespan="on") as url:
        yield f"{url}/v1", token


def preflight(url: str, **changes: str) -> httpx.Response:
    return httpx.options(f"{url}/chat/completions", headers={**ASKS, **changes})


def test_a_preflight_from_an_allow_listed_origin_is_answered_without_a_token(
    web: tuple[str, str], upstream: FakeUpstream
) -> None:
    response = preflight(web[0])
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == PAGE
    assert set(response.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST"}
    assert response.headers["access-control-allow-headers"] == (
        "authorization, content-type, x-stainless-os"
    )
    assert response.headers["vary"] == "Origin"
    assert int(response.headers["access-control-max-age"]) > 0
    assert upstream.seen == []


def test_a_preflight_from_another_origin_is_refused_without_cors_headers(
    web: tuple[str, str],
) -> None:
    response = preflight(web[0], Origin="https://evil.example")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden_origin"
    assert not [h for h in response.headers if h.startswith("access-control-")]


@pytest.mark.parametrize(
    ("asks", "code"),
    [
        ({"Access-Control-Request-Method": "DELETE"}, "forbidden_cors_method"),
        ({"Access-Control-Request-Headers": "authorization, cookie"}, "forbidden_cors_header"),
    ],
)
def test_a_preflight_for_a_method_or_header_the_api_does_not_take_is_refused(
    web: tuple[str, str], asks: dict[str, str], code: str
) -> None:
    response = preflight(web[0], **asks)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == code


def test_options_without_a_preflight_still_needs_a_token(web: tuple[str, str]) -> None:
    assert httpx.options(f"{web[0]}/chat/completions").status_code == 401
    response = httpx.options(f"{web[0]}/chat/completions", headers={"Origin": PAGE})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == PAGE  # the page may read why


def test_the_real_request_of_an_allow_listed_origin_carries_cors_headers(
    web: tuple[str, str],
) -> None:
    url, token = web
    headers = {"Origin": PAGE, "Authorization": f"Bearer {token}"}
    for stream in (False, True):
        response = httpx.post(
            f"{url}/chat/completions", json={**CHAT, "stream": stream}, headers=headers
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == PAGE
        assert response.headers["vary"] == "Origin"
        assert "x-request-id" in response.headers["access-control-expose-headers"]


def test_requests_without_an_origin_get_no_cors_headers(web: tuple[str, str]) -> None:
    url, token = web
    response = httpx.post(
        f"{url}/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert not [h for h in response.headers if h.startswith("access-control-")]


def test_with_no_allow_list_a_preflight_is_refused(upstream: FakeUpstream, tmp_path: Path) -> None:
    with serve(make_gateway(upstream, tmp_path), lifespan="on") as url:
        response = preflight(f"{url}/v1")
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
