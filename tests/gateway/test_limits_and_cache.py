"""Per-app request rate and the response cache, on a fake clock."""

from __future__ import annotations

from promptready.gateway.cache import ResponseCache, cache_key
from promptready.gateway.limits import RateLimiter


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
