"""Fallback chains: backoff, Retry-After, move on, never retry a stream once it started."""

from __future__ import annotations

import asyncio
import time

import pytest

from promptready.providers.errors import UpstreamProtocolError
from promptready.providers.http import HttpClient
from promptready.providers.openai_compat import StreamDelta, StreamEnd
from promptready.providers.retry import RetryPolicy
from promptready.providers.routing import (
    AllRoutesFailedError,
    Attempts,
    FallbackPolicy,
    Route,
    chat_with_fallback,
    stream_with_fallback,
)
from tests.fakes.upstream import FakeUpstream, Script
from tests.providers.conftest import make_provider

BODY = {"messages": [{"role": "user", "content": "hi"}]}


class Sleeps:
    """Records requested waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def two_routes(upstream: FakeUpstream, http: HttpClient) -> list[Route]:
    return [
        Route(make_provider(upstream, http, name="first"), "model-a"),
        Route(make_provider(upstream, http, name="second"), "model-b"),
    ]


async def test_first_route_answers_with_one_hop(upstream: FakeUpstream, http: HttpClient) -> None:
    attempts = Attempts()
    result = await chat_with_fallback(two_routes(upstream, http), BODY, attempts=attempts)
    assert result.content.endswith("model-a")
    assert attempts.summary() == "first/model-a:ok"


async def test_429_is_retried_after_its_retry_after(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.script(Script(status=429, retry_after="1.5"))
    sleeps, attempts = Sleeps(), Attempts()
    result = await chat_with_fallback(
        two_routes(upstream, http), BODY, attempts=attempts, sleep=sleeps
    )
    assert result.content.endswith("model-a")
    assert sleeps.waits == [1.5]
    assert attempts.summary() == "first/model-a:429 → first/model-a:ok"


async def test_persistent_5xx_falls_back_to_the_next_model(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.script(Script(status=500), Script(status=502))
    sleeps, attempts = Sleeps(), Attempts()
    policy = FallbackPolicy(RetryPolicy(attempts=2, base_delay_s=0.25))
    result = await chat_with_fallback(
        two_routes(upstream, http), BODY, policy=policy, attempts=attempts, sleep=sleeps
    )
    assert result.content.endswith("model-b")
    assert sleeps.waits == [0.25]
    assert attempts.summary() == "first/model-a:500 → first/model-a:502 → second/model-b:ok"
    assert [r.body["model"] for r in upstream.seen] == ["model-a", "model-a", "model-b"]


@pytest.mark.parametrize("status", [501, 505])
async def test_a_server_that_does_not_do_the_request_is_left_at_once_for_the_next_model(
    upstream: FakeUpstream, http: HttpClient, status: int
) -> None:
    upstream.script(Script(status=status))
    sleeps, attempts = Sleeps(), Attempts()
    result = await chat_with_fallback(
        two_routes(upstream, http), BODY, attempts=attempts, sleep=sleeps
    )
    assert result.content.endswith("model-b")
    assert sleeps.waits == []  # no backoff, no second try of the same route
    assert attempts.summary() == f"first/model-a:{status} → second/model-b:ok"


async def test_long_retry_after_skips_to_the_fallback_without_waiting(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.script(Script(status=429, retry_after="3600"))
    sleeps = Sleeps()
    result = await chat_with_fallback(two_routes(upstream, http), BODY, sleep=sleeps)
    assert result.content.endswith("model-b") and sleeps.waits == []


async def test_client_errors_do_not_fall_back(upstream: FakeUpstream, http: HttpClient) -> None:
    upstream.script(Script(status=400))
    attempts = Attempts()
    with pytest.raises(AllRoutesFailedError) as err:
        await chat_with_fallback(two_routes(upstream, http), BODY, attempts=attempts)
    assert "400" in str(err.value) and len(upstream.seen) == 1
    assert attempts.summary() == "first/model-a:400"


async def test_all_routes_failing_reports_the_last_error_and_every_hop(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.script(*[Script(status=503)] * 4)
    attempts = Attempts()
    with pytest.raises(AllRoutesFailedError) as err:
        await chat_with_fallback(
            two_routes(upstream, http),
            BODY,
            policy=FallbackPolicy(RetryPolicy(attempts=2)),
            attempts=attempts,
            sleep=Sleeps(),
        )
    assert "tried 2 models" in str(err.value)
    assert len(attempts.hops) == 4


async def test_stream_falls_back_before_the_first_byte(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.script(Script(status=503), Script(status=503), Script(status=503))
    attempts = Attempts()
    events = [
        event
        async for event in stream_with_fallback(
            two_routes(upstream, http), BODY, attempts=attempts, sleep=Sleeps()
        )
    ]
    routes = {route.label for route, _ in events}
    assert routes == {"second/model-b"}
    assert isinstance(events[-1][1], StreamEnd)


async def test_stream_is_not_retried_after_the_first_byte(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.script(Script(cut_after_chunks=1))
    attempts = Attempts()
    texts: list[str] = []
    with pytest.raises(UpstreamProtocolError):
        async for _, event in stream_with_fallback(
            two_routes(upstream, http), BODY, attempts=attempts, sleep=Sleeps()
        ):
            if isinstance(event, StreamDelta):
                texts.append(event.text)
    assert texts == ["Rewritten"]
    assert len(upstream.seen) == 1
    assert attempts.summary() == "first/model-a:ok→protocol"


async def test_a_silent_provider_is_left_after_the_first_byte_clock(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.script(Script(hang_s=5))
    attempts = Attempts()
    started = time.monotonic()
    result = await chat_with_fallback(
        two_routes(upstream, http),
        BODY,
        policy=FallbackPolicy(first_byte_s=0.3),
        attempts=attempts,
    )
    assert result.content.endswith("model-b")
    assert attempts.summary() == "first/model-a:timeout → second/model-b:ok"
    assert time.monotonic() - started < 3  # not the provider's 5 s, nor a retry of it


async def test_the_overall_deadline_ends_the_wait_naming_its_setting(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.script(Script(hang_s=5), Script(hang_s=5))
    started = time.monotonic()
    with pytest.raises(AllRoutesFailedError, match=r"within 0\.5 s.*ai\.deadline_s"):
        await chat_with_fallback(
            two_routes(upstream, http), BODY, policy=FallbackPolicy(first_byte_s=10, deadline_s=0.5)
        )
    assert time.monotonic() - started < 3


async def test_a_backoff_longer_than_the_deadline_moves_on_instead_of_sleeping(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.script(Script(status=503, retry_after="10"))
    sleeps = Sleeps()
    policy = FallbackPolicy(RetryPolicy(max_retry_after_s=20), deadline_s=5)
    result = await chat_with_fallback(two_routes(upstream, http), BODY, policy=policy, sleep=sleeps)
    assert result.content.endswith("model-b") and sleeps.waits == []


async def test_a_waiting_caller_hears_which_model_it_waits_for(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.script(Script(hang_s=0.5))
    heard: list[str] = []
    policy = FallbackPolicy(first_byte_s=5, deadline_s=30, notice_after_s=0.1)
    await chat_with_fallback(two_routes(upstream, http), BODY, policy=policy, notice=heard.append)
    assert heard == ["waiting for first/model-a (up to 5 s more)"]


async def test_a_quick_answer_makes_no_notice(upstream: FakeUpstream, http: HttpClient) -> None:
    heard: list[str] = []
    policy = FallbackPolicy(first_byte_s=5, notice_after_s=0.5)
    await chat_with_fallback(two_routes(upstream, http), BODY, policy=policy, notice=heard.append)
    await asyncio.sleep(0.6)
    assert heard == []


async def test_a_redirect_is_not_followed_and_names_where_it_pointed(
    upstream: FakeUpstream, http: HttpClient
) -> None:
    upstream.script(Script(redirect_to="http://elsewhere.invalid/v1/chat/completions"))
    with pytest.raises(AllRoutesFailedError, match=r"redirect \(307 to http://elsewhere\.invalid"):
        await chat_with_fallback(two_routes(upstream, http), BODY)
    assert len(upstream.seen) == 1  # neither followed nor sent to the fallback


@pytest.mark.parametrize(
    "policy",
    [FallbackPolicy(first_byte_s=0.5), FallbackPolicy(deadline_s=0.5)],
    ids=["first_byte_s", "deadline_s"],
)
async def test_a_stream_that_started_runs_past_the_first_byte_clock_and_the_deadline(
    upstream: FakeUpstream, http: HttpClient, policy: FallbackPolicy
) -> None:
    upstream.script(Script(chunk_delay_s=0.2))  # 4 chunks: 0.8 s in all, 0.2 s to the first
    events = [
        e async for _, e in stream_with_fallback(two_routes(upstream, http), BODY, policy=policy)
    ]
    assert isinstance(events[-1], StreamEnd)
    assert [r.body["model"] for r in upstream.seen] == ["model-a"]
