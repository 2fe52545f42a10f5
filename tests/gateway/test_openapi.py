"""The OpenAPI document (resources/gateway/openapi.json) against a live gateway, with schemathesis:
for generated requests, valid and invalid, the gateway never answers 5xx itself, every error is
OpenAI-shaped, every answer conforms to the document, and only valid requests reach the upstream.

Each operation runs a bounded number of examples per mode (``EXAMPLES``) on a real loopback port,
in front of the real fake upstream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction

from promptready.gateway.apps import AppLimits
from promptready.ledger.meter import Meter
from promptready.ledger.writer import BatchWriter
from promptready.pricing import load_rate_card
from promptready.resources import resource_path
from tests.fakes.upstream import FakeUpstream, serve
from tests.gateway.conftest import make_gateway

EXAMPLES = 30
DOCUMENT: dict[str, Any] = json.loads(resource_path("gateway/openapi.json").read_text("utf-8"))
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = {
    f"{method.upper()} {path}": SCHEMA[path][method.upper()]
    for path, methods in DOCUMENT["paths"].items()
    for method in methods
}
CHECKS: list[CheckFunction] = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
# What reaches the upstream, by its path: the body the gateway's own contract requires.
UPSTREAM_BODIES = {
    "/v1/chat/completions": "ChatRequest",
    "/v1/embeddings": "EmbeddingsRequest",
    "/v1/responses": "ResponsesRequest",
}


def validator(name: str) -> jsonschema_rs.Validator:
    schema = {**DOCUMENT["components"]["schemas"][name], "components": DOCUMENT["components"]}
    return jsonschema_rs.validator_for(schema)


VALIDATORS = {path: validator(name) for path, name in UPSTREAM_BODIES.items()}


@pytest.fixture
def live(upstream: FakeUpstream, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A metered gateway before the fake upstream; its base URL and an app token."""
    gateway = make_gateway(upstream, tmp_path)
    gateway.meter = Meter(BatchWriter(tmp_path / "ledger.db"), load_rate_card())
    token = gateway.apps.create("fuzz", AppLimits(budget_usd_day=None))[1]
    with serve(gateway, lifespan="on") as url:
        yield url, token


def assert_openai_error(response: schemathesis.Response) -> None:
    assert response.headers["content-type"] == ["application/json"], response.text
    error = orjson.loads(response.content)["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]


# Invalid requests only exist where there is something to get wrong: a body.
RUNS = [
    pytest.param(label, mode, id=f"{label}-{mode.value}")
    for label, operation in sorted(OPERATIONS.items())
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or operation.body
]


@pytest.mark.parametrize(("label", "mode"), RUNS)
def test_generated_requests_get_documented_answers(
    live: tuple[str, str], upstream: FakeUpstream, label: str, mode: GenerationMode
) -> None:
    url, token = live
    operation = OPERATIONS[label]
    session = requests.Session()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples on every run: a failure here is reproducible
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: schemathesis.Case[Any]) -> None:
        upstream.seen.clear()
        response = case.call(
            base_url=url, session=session, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code < 500, response.text  # the fake upstream never fails
        if response.status_code >= 400:
            assert_openai_error(response)
        case.validate_response(response, checks=CHECKS)
        for seen in upstream.seen:  # the fake's base URL ends in /v1 like ours
            if (seen.method, seen.path) == ("GET", "/v1/models"):
                continue  # our /v1/models asks each provider for its list
            assert seen.path in VALIDATORS, seen.path
            assert VALIDATORS[seen.path].is_valid(seen.body), seen.body

    check()
    session.close()
