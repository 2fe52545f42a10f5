"""Retries and fallbacks across routes (model A → B → C, across providers).

A route is retried with backoff on 429/5xx/timeouts/connection errors (honouring Retry-After), then
the next route is tried. A stream is never retried once its first byte reached the caller: from
then on a failure is the caller's to see. Every attempt is kept as a ``Hop`` for the ledger row.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from promptready.providers.errors import UpstreamError, UpstreamHTTPError
from promptready.providers.openai_compat import (
    ChatResult,
    OpenAICompatProvider,
    StreamEvent,
)
from promptready.providers.retry import RetryPolicy

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """One model at one provider."""

    provider: OpenAICompatProvider
    model: str

    @property
    def label(self) -> str:
        return f"{self.provider.name}/{self.model}"


@dataclass(frozen=True)
class Hop:
    """One attempt: which route, and how it ended (``ok``, an HTTP status, ``timeout``, ...)."""

    route: str
    outcome: str


@dataclass
class Attempts:
    """The hops so far; shared with the caller so a failed call still reports them."""

    hops: list[Hop] = field(default_factory=list)

    def record(self, route: Route, outcome: str) -> None:
        self.hops.append(Hop(route.label, outcome))

    def summary(self) -> str:
        """``openai/gpt-4o-mini:429 → groq/llama-3.1-8b-instant:ok`` for the ledger row."""
        return " → ".join(f"{h.route}:{h.outcome}" for h in self.hops)


class AllRoutesFailedError(UpstreamError):
    """Every route failed; carries the last error (the one worth showing)."""

    def __init__(self, last: UpstreamError, attempts: Attempts) -> None:
        tried = len({h.route for h in attempts.hops})
        suffix = f" (tried {tried} models)" if tried > 1 else ""
        super().__init__(f"{last}{suffix}", last.provider)
        self.last = last
        self.attempts = attempts


def outcome_label(error: UpstreamError) -> str:
    """How a failed attempt ended, for its hop: an HTTP status or ``timeout``, ``unreachable``..."""
    if isinstance(error, UpstreamHTTPError):
        return str(error.status)
    return type(error).__name__.removeprefix("Upstream").removesuffix("Error").lower()


def _should_fall_back(error: UpstreamError) -> bool:
    return error.retryable


async def _attempt_routes(
    routes: Sequence[Route],
    call: Callable[[Route], Awaitable[Any]],
    policy: RetryPolicy,
    attempts: Attempts,
    sleep: Sleep,
) -> Any:
    if not routes:
        raise ValueError("no routes to try")
    last: UpstreamError | None = None
    for route in routes:
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await call(route)
            except UpstreamError as error:
                attempts.record(route, outcome_label(error))
                last = error
                if not _should_fall_back(error):
                    raise AllRoutesFailedError(error, attempts) from None
                retry_after = error.retry_after if isinstance(error, UpstreamHTTPError) else None
                wait = policy.delay(attempt, retry_after)
                if wait is None:
                    break  # on to the next route
                await sleep(wait)
                continue
            attempts.record(route, "ok")
            return result
    assert last is not None
    raise AllRoutesFailedError(last, attempts)


async def chat_with_fallback(
    routes: Sequence[Route],
    body: dict[str, Any],
    policy: RetryPolicy | None = None,
    attempts: Attempts | None = None,
    sleep: Sleep = asyncio.sleep,
) -> ChatResult:
    """A non-streaming chat completion on the first route that succeeds."""
    attempts = attempts if attempts is not None else Attempts()

    async def call(route: Route) -> ChatResult:
        return await route.provider.chat({**body, "model": route.model})

    result: ChatResult = await _attempt_routes(
        routes, call, policy or RetryPolicy(), attempts, sleep
    )
    return result


async def stream_with_fallback(
    routes: Sequence[Route],
    body: dict[str, Any],
    policy: RetryPolicy | None = None,
    attempts: Attempts | None = None,
    sleep: Sleep = asyncio.sleep,
) -> AsyncGenerator[tuple[Route, StreamEvent], None]:
    """Stream from the first route that produces a first event; no retry after that event."""
    attempts = attempts if attempts is not None else Attempts()

    async def open_stream(
        route: Route,
    ) -> tuple[Route, AsyncGenerator[StreamEvent, None], StreamEvent]:
        stream = route.provider.stream_chat({**body, "model": route.model})
        try:
            return route, stream, await anext(stream)
        except BaseException:
            await stream.aclose()
            raise

    route, stream, event = await _attempt_routes(
        routes, open_stream, policy or RetryPolicy(), attempts, sleep
    )
    try:
        yield route, event
        async for event in stream:
            yield route, event
    except UpstreamError as error:
        # Failed after the first byte: the hop says so, and no other route is tried.
        attempts.hops[-1] = Hop(route.label, f"ok→{outcome_label(error)}")
        raise
    finally:
        await stream.aclose()
