"""JSON limits at parse time: too deep or too many values is a clear 400 (never a 500 from
re-serialising what orjson parsed), and a body within the limits is forwarded."""

from __future__ import annotations

import httpx
import orjson
import pytest

from promptready.gateway.errors import GatewayError
from promptready.gateway.shape import MAX_DEPTH, MAX_ELEMENTS, parse_json
from tests.gateway.conftest import RunningGateway

HEAD = b'{"model": "fake-gpt", "messages": [{"role": "user", "content": "hi"}], "metadata": '


def nested(depth: int) -> bytes:
    """A chat body whose ``metadata`` nests arrays so the whole body is ``depth`` deep."""
    inner = depth - 1  # the body object itself is the first level
    return HEAD + b"[" * inner + b"]" * inner + b"}"


def post(gateway: RunningGateway, body: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {gateway.token}", "Content-Type": "application/json"}
    return httpx.post(f"{gateway.url}/chat/completions", content=body, headers=headers)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 254, 255, 600, 1023])
def test_nesting_past_the_limit_is_a_400_not_a_500(gateway: RunningGateway, depth: int) -> None:
    response = post(gateway, nested(depth))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "json_too_deep"
    assert gateway.upstream.seen == []


def test_nesting_past_what_the_parser_takes_is_invalid_json(gateway: RunningGateway) -> None:
    response = post(gateway, nested(1100))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_nesting_up_to_the_limit_is_forwarded(gateway: RunningGateway) -> None:
    assert post(gateway, nested(MAX_DEPTH)).status_code == 200
    assert len(gateway.upstream.seen) == 1


def test_too_many_values_is_a_400(gateway: RunningGateway) -> None:
    body = HEAD + b"[" + b",".join([b"0"] * (MAX_ELEMENTS + 1)) + b"]}"
    response = post(gateway, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "json_too_large"
    assert gateway.upstream.seen == []


def test_values_are_counted_across_every_level() -> None:
    half = [0] * (MAX_ELEMENTS // 2)
    with pytest.raises(GatewayError) as refused:
        parse_json(orjson.dumps({"model": "m", "a": [half], "b": {"c": half}}))
    assert refused.value.code == "json_too_large"


def test_the_element_limit_itself_is_accepted() -> None:
    # The body object holds two values; its list holds the rest.
    body = orjson.dumps({"model": "m", "input": [0] * (MAX_ELEMENTS - 2)})
    assert len(parse_json(body)["input"]) == MAX_ELEMENTS - 2


def test_brackets_and_commas_inside_strings_are_not_structure() -> None:
    text = "[" * 500 + "," * (MAX_ELEMENTS + 10)
    assert parse_json(orjson.dumps({"model": "m", "input": text}))["input"] == text
