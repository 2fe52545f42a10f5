"""One OpenAI-compatible provider against a real HTTP upstream: JSON, SSE, errors, no key leaks."""

from __future__ import annotations

import pytest

from promptready.http1.proxies import Proxy
from promptready.providers.errors import (
    UpstreamHTTPError,
    UpstreamProtocolError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from promptready.providers.http import HttpClient
from promptready.providers.openai_compat import OpenAICompatProvider, StreamDelta, StreamEnd
from promptready.providers.presets import ProviderConfig
from promptready.secrets import ApiKey
from tests.fakes.upstream import PROMPT_TOKENS, FakeUpstream, Script
from tests.providers.conftest import KEY, make_provider

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


async def collect(provider: OpenAICompatProvider) -> list[StreamDelta | StreamEnd]:
    return [event async for event in provider.stream_chat(BODY)]


async def test_chat_returns_text_and_usage(provider: OpenAICompatProvider) -> None:
    result = await provider.chat(BODY)
    assert result.content == "Rewritten prompt for gpt-4o-mini"
    assert result.usage is not None and result.usage.prompt_tokens == PROMPT_TOKENS
    assert result.usage.completion_tokens == 4 and not result.usage.estimated
    assert 0 < result.ttft_ms <= result.latency_ms


async def test_key_goes_in_the_authorization_header_only(
    provider: OpenAICompatProvider, upstream: FakeUpstream
) -> None:
    await provider.chat(BODY)
    (seen,) = upstream.seen
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in str(seen.body)


async def test_provider_repr_hides_the_key(provider: OpenAICompatProvider) -> None:
    assert KEY not in repr(provider)


async def test_stream_yields_deltas_then_usage(
    provider: OpenAICompatProvider, upstream: FakeUpstream
) -> None:
    events = await collect(provider)
    text = "".join(e.text for e in events if isinstance(e, StreamDelta))
    assert text == "Rewritten prompt for gpt-4o-mini"
    end = events[-1]
    assert isinstance(end, StreamEnd) and end.usage is not None and end.usage.completion_tokens == 4
    assert upstream.seen[0].body["stream_options"] == {"include_usage": True}


async def test_stream_without_usage_chunk_ends_with_no_usage(
    provider: OpenAICompatProvider, upstream: FakeUpstream
) -> None:
    upstream.script(Script(no_usage=True))
    end = (await collect(provider))[-1]
    assert isinstance(end, StreamEnd) and end.usage is None


async def test_provider_without_stream_usage_is_not_asked_for_it(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    await collect(make_provider(upstream, http, stream_usage=False))
    assert "stream_options" not in upstream.seen[0].body


async def test_stream_cut_off_midway_is_a_protocol_error(
    provider: OpenAICompatProvider, upstream: FakeUpstream
) -> None:
    upstream.script(Script(cut_after_chunks=2))
    got: list[str] = []
    with pytest.raises(UpstreamProtocolError):
        async for event in provider.stream_chat(BODY):
            if isinstance(event, StreamDelta):
                got.append(event.text)
    assert "".join(got) == "Rewritten prompt"


async def test_error_status_carries_status_code_and_retry_after(
    provider: OpenAICompatProvider, upstream: FakeUpstream
) -> None:
    upstream.script(Script(status=429, retry_after="3"))
    with pytest.raises(UpstreamHTTPError) as err:
        await provider.chat(BODY)
    assert err.value.status == 429 and err.value.retry_after == "3" and err.value.retryable
    assert "rate-limiting" in str(err.value)


async def test_wrong_key_is_a_clear_401(upstream: FakeUpstream, http: HttpClient) -> None:
    upstream.valid_keys = frozenset({"the-right-key"})
    with pytest.raises(UpstreamHTTPError) as err:
        await make_provider(upstream, http).chat(BODY)
    assert err.value.status == 401 and not err.value.retryable
    assert "promptready keys test fake" in str(err.value)


async def test_malformed_json_is_a_protocol_error(
    provider: OpenAICompatProvider, upstream: FakeUpstream
) -> None:
    upstream.script(Script(malformed=True))
    with pytest.raises(UpstreamProtocolError, match="not a chat completion"):
        await provider.chat(BODY)


async def test_hanging_upstream_times_out(
    provider: OpenAICompatProvider, upstream: FakeUpstream
) -> None:
    upstream.script(Script(hang_s=3))
    with pytest.raises(UpstreamTimeoutError):
        await provider.chat(BODY)


async def test_nothing_listening_is_unreachable(http: HttpClient) -> None:
    config = ProviderConfig(name="gone", title="gone", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(UpstreamUnreachableError, match="Could not reach gone"):
        await OpenAICompatProvider(config, ApiKey(KEY), http).chat(BODY)


async def test_list_models(provider: OpenAICompatProvider) -> None:
    assert await provider.list_models() == ["fake-gpt", "gpt-4o-mini"]


@pytest.mark.parametrize(
    "script", [Script(status=401), Script(status=500), Script(malformed=True), Script(hang_s=3)]
)
async def test_no_error_carries_the_key(
    provider: OpenAICompatProvider, upstream: FakeUpstream, script: Script
) -> None:
    upstream.script(script)
    with pytest.raises(Exception) as err:
        await provider.chat(BODY)
    chain: list[BaseException] = []
    exc: BaseException | None = err.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    assert all(KEY not in repr(e) and KEY not in str(e) for e in chain)


async def test_the_providers_client_takes_its_proxy_from_the_environment_except_no_proxy_hosts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.test:3128")
    monkeypatch.setenv("no_proxy", "internal.test")
    client = HttpClient().client()
    assert client.route("https://api.openai.com/v1/models").proxy == Proxy("proxy.test", 3128)
    assert client.route("https://internal.test/v1/models").proxy is None
    assert client.route("http://127.0.0.1:9/v1").proxy is None


class DeviceToken:
    """An Auth like the credit proxy's: a token that a refresh replaces."""

    def __init__(self, first: str, fresh: str) -> None:
        self.token, self.fresh, self.refreshes = first, fresh, 0

    def authorization(self) -> str | None:
        return f"Bearer {self.token}"

    async def refresh(self) -> bool:
        self.refreshes += 1
        self.token = self.fresh
        return True


def with_auth(upstream: FakeUpstream, http: HttpClient, auth: DeviceToken) -> OpenAICompatProvider:
    config = ProviderConfig(name="credits", title="credits", base_url=upstream.base_url)
    return OpenAICompatProvider(config, None, http, auth=auth)


async def test_a_401_refreshes_the_credential_once_and_tries_again(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.valid_keys = frozenset({"jwt-fresh"})
    auth = DeviceToken("jwt-expired", "jwt-fresh")
    result = await with_auth(upstream, http, auth).chat(BODY)
    assert result.content.startswith("Rewritten") and auth.refreshes == 1
    assert [s.headers["authorization"] for s in upstream.seen] == [
        "Bearer jwt-expired",
        "Bearer jwt-fresh",
    ]


async def test_a_401_after_the_refresh_is_the_callers_error(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.valid_keys = frozenset({"never"})
    auth = DeviceToken("jwt-a", "jwt-b")
    with pytest.raises(UpstreamHTTPError) as err:
        await with_auth(upstream, http, auth).chat(BODY)
    assert err.value.status == 401 and auth.refreshes == 1 and len(upstream.seen) == 2


class RefusedRenewal(DeviceToken):
    """An Auth whose renewal itself fails (the service refused the device's secret)."""

    async def refresh(self) -> bool:
        self.refreshes += 1
        raise UpstreamProtocolError("renewal refused", "credits")


async def test_a_renewal_that_fails_leaves_no_connection_open(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.valid_keys = frozenset({"never"})
    auth = RefusedRenewal("jwt-a", "jwt-b")
    with pytest.raises(UpstreamProtocolError, match="renewal refused"):
        await with_auth(upstream, http, auth).chat(BODY)
    client = http.client()
    pool = client.pool(client.route(f"{upstream.base_url}/chat/completions"))
    assert auth.refreshes == 1 and pool.open == 0  # the refused answer was dropped


async def test_a_stream_framed_with_crlf_reads_the_same_text_and_usage(
    provider: OpenAICompatProvider, upstream: FakeUpstream
) -> None:
    upstream.script(Script(crlf=True))
    events = await collect(provider)
    text = "".join(e.text for e in events if isinstance(e, StreamDelta))
    end = events[-1]
    assert text == "Rewritten prompt for gpt-4o-mini"
    assert isinstance(end, StreamEnd) and end.usage is not None
    assert end.usage.completion_tokens == 4
