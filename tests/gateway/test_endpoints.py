"""Embeddings and the Responses API through the gateway, with the openai SDK and raw httpx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from keyrings.alt.file import PlaintextKeyring

from promptready.engine import Engine
from promptready.gateway.app import Gateway
from promptready.gateway.apps import AppRegistry
from promptready.providers.presets import presets
from promptready.providers.registry import ProviderRegistry
from promptready.secrets import ApiKey, SecretStore
from promptready.settings import AISettings, Settings
from tests.fakes.upstream import FakeUpstream, Script, serve
from tests.gateway.conftest import UPSTREAM_KEY, RunningGateway


def client(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url, api_key=gw.token, max_retries=0)


def test_embeddings_pass_through(gateway: RunningGateway) -> None:
    reply = client(gateway).embeddings.create(model="fake/text-embedding-3-small", input="hi")
    assert reply.data[0].embedding == [0.25, -0.5, 1.0]
    assert gateway.upstream.seen[-1].path == "/v1/embeddings"
    assert gateway.upstream.seen[-1].body["model"] == "text-embedding-3-small"


def test_responses_api_json(gateway: RunningGateway) -> None:
    reply = client(gateway).responses.create(model="fake-gpt", input="hello")
    assert reply.output_text == "Rewritten prompt for fake-gpt"
    assert reply.usage is not None and reply.usage.output_tokens == 4


def test_responses_api_stream_is_typed_events_without_done(gateway: RunningGateway) -> None:
    events = list(client(gateway).responses.create(model="fake-gpt", input="hello", stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "Rewritten prompt for fake-gpt"
    raw = httpx.post(
        f"{gateway.url}/responses",
        json={"model": "fake-gpt", "input": "hello", "stream": True},
        headers={"Authorization": f"Bearer {gateway.token}"},
    )
    assert "[DONE]" not in raw.text and raw.text.startswith("event: response.created\n")


def test_chat_stream_framing_is_byte_compatible(gateway: RunningGateway) -> None:
    raw = httpx.post(
        f"{gateway.url}/chat/completions",
        json={"model": "fake-gpt", "messages": [{"role": "user", "content": "x"}], "stream": True},
        headers={"Authorization": f"Bearer {gateway.token}"},
    )
    assert raw.headers["content-type"].startswith("text/event-stream")
    events = raw.text.split("\n\n")
    assert all(e.startswith("data: ") for e in events if e)
    assert raw.text.endswith("data: [DONE]\n\n")
    assert "content-encoding" not in raw.headers


def test_stream_cut_midway_ends_with_an_error_event_and_done(gateway: RunningGateway) -> None:
    gateway.upstream.script(Script(cut_after_chunks=2))
    raw = httpx.post(
        f"{gateway.url}/chat/completions",
        json={"model": "fake-gpt", "messages": [{"role": "user", "content": "x"}], "stream": True},
        headers={"Authorization": f"Bearer {gateway.token}"},
    )
    events = [e for e in raw.text.split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    assert '"upstream_stream_error"' in events[-2]
    assert '"Rewritten"' in raw.text


def test_embeddings_refuse_stream(gateway: RunningGateway) -> None:
    raw = httpx.post(
        f"{gateway.url}/embeddings",
        json={"model": "fake-gpt", "input": "x", "stream": True},
        headers={"Authorization": f"Bearer {gateway.token}"},
    )
    assert raw.status_code == 400 and gateway.upstream.seen == []


def test_an_unknown_provider_prefix_is_a_400_naming_the_known_ones(gateway: RunningGateway) -> None:
    raw = httpx.post(
        f"{gateway.url}/chat/completions",
        json={"model": "nosuch/model", "messages": [{"role": "user", "content": "x"}]},
        headers={"Authorization": f"Bearer {gateway.token}"},
    )
    assert raw.status_code == 400
    message = raw.json()["error"]["message"]
    assert "Unknown provider 'nosuch'" in message and "openai" in message and "fake" in message
    assert gateway.upstream.seen == []  # no key was spent on it


def test_models_lists_the_virtual_models_and_every_keyed_providers_models(
    gateway: RunningGateway,
) -> None:
    listed = client(gateway).models.list()
    ids = [m.id for m in listed.data]
    assert ids[:2] == ["promptready/offline", "promptready/enhance"]
    assert {"fake/gpt-4o-mini", "fake/fake-gpt"} <= set(ids)
    client(gateway).models.list()
    assert [s.path for s in gateway.upstream.seen] == ["/v1/models"]  # cached


def test_models_falls_back_to_the_presets_default_when_a_provider_does_not_answer(
    gateway: RunningGateway,
) -> None:
    gateway.upstream.script(Script(status=503))
    ids = [m.id for m in client(gateway).models.list().data]
    assert ids == ["promptready/offline", "promptready/enhance"]  # custom: no preset default


@pytest.fixture
def groq_gateway(upstream: FakeUpstream, tmp_path: Path) -> Iterator[RunningGateway]:
    """A gateway whose one keyed provider is the groq preset, moved to the fake upstream."""
    secrets = SecretStore(PlaintextKeyring())
    secrets.set_key("groq", ApiKey(UPSTREAM_KEY))
    ai = AISettings(custom_providers={"groq": upstream.base_url})
    engine = Engine(Settings(ai=ai), ProviderRegistry(ai, secrets))
    app = Gateway(engine, AppRegistry(tmp_path / "apps.toml"))
    _, token = app.apps.create("tests")
    with serve(app, lifespan="on") as url:
        yield RunningGateway(f"{url}/v1", token, app.apps, upstream)


GROQ_PRESET_IDS = [f"groq/{m}" for m in presets()["groq"].models]


@pytest.mark.parametrize("failure", [Script(status=503), Script(malformed=True)])
def test_models_lists_a_preset_providers_preset_models_when_its_list_fails(
    groq_gateway: RunningGateway, failure: Script
) -> None:
    groq_gateway.upstream.script(failure)
    ids = [m.id for m in client(groq_gateway).models.list().data]
    assert ids == ["promptready/offline", "promptready/enhance", *GROQ_PRESET_IDS]
    assert "groq/llama-3.1-8b-instant" in ids  # the preset's default model among them


def test_models_lists_a_preset_providers_own_models_when_it_answers(
    groq_gateway: RunningGateway,
) -> None:
    ids = [m.id for m in client(groq_gateway).models.list().data]
    assert ids[2:] == ["groq/fake-gpt", "groq/gpt-4o-mini"]
