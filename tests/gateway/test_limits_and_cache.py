"""Per-app request rate and the response cache, on a fake clock."""

from __future__ import annotations

import orjson

from promptready.gateway.cache import ResponseCache, cache_key
from promptready.gateway.limits import RateLimiter
from promptready.providers.wire import completion_as_sse, completion_from_sse


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_admits_up_to_rpm_then_says_when_to_retry() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert [limiter.admit("a", 2) for _ in range(2)] == [None, None]
    clock.now += 15
    assert limiter.admit("a", 2) == 45.0
    clock.now += 45
    assert limiter.admit("a", 2) is None


def test_rate_limits_are_per_app() -> None:
    limiter = RateLimiter(Clock())
    assert limiter.admit("a", 1) is None
    assert limiter.admit("b", 1) is None
    assert limiter.admit("a", 1) is not None


def test_cache_key_ignores_stream_flags_and_key_order() -> None:
    one = cache_key("app", {"model": "m", "messages": [1], "stream": True})
    two = cache_key("app", {"messages": [1], "model": "m", "stream_options": {"x": 1}})
    assert one == two
    assert cache_key("other", {"model": "m", "messages": [1]}) != one
    assert cache_key("app", {"model": "m", "messages": [2]}) != one


def test_cache_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    cache = ResponseCache(clock=clock)
    cache.put("k", b"body", ttl_s=10)
    assert cache.get("k") == b"body"
    clock.now += 10
    assert cache.get("k") is None


def test_cache_evicts_the_least_recently_used() -> None:
    cache = ResponseCache(max_entries=2, clock=Clock())
    cache.put("a", b"1", 60)
    cache.put("b", b"2", 60)
    cache.get("a")
    cache.put("c", b"3", 60)
    assert cache.get("b") is None and cache.get("a") == b"1"


COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


def test_cached_completion_replays_as_an_sse_stream() -> None:
    completion = COMPLETION
    stream = completion_as_sse(completion, include_usage=True)
    events = [e for e in stream.split(b"\n\n") if e]
    assert events[-1] == b"data: [DONE]"
    chunks = [orjson.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "hi"}
    assert chunks[1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[2]["usage"]["total_tokens"] == 2


def test_a_replayed_stream_rebuilds_the_same_completion() -> None:
    completion = COMPLETION
    rebuilt = completion_from_sse(completion_as_sse(completion, include_usage=True))
    assert rebuilt == completion


def test_streams_with_tool_calls_or_errors_are_not_cached() -> None:
    tool = {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "t"}]}}]}
    error = {"error": {"message": "cut", "code": "upstream_stream_error"}}
    for chunk in (tool, error):
        assert (
            completion_from_sse(b"data: " + orjson.dumps(chunk) + b"\n\ndata: [DONE]\n\n") is None
        )
