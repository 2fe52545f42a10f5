"""The one route-attempt loop: retries and fallbacks across routes (model A → B → C, across
providers), for the engine, the gateway and the credit-proxy client alike.

The policy: an HTTP status another try may fix (408, 409, 429, 5xx: ``retry.is_retryable``,
which the gateway's relay asks too) is retried on the same route with backoff (honouring
Retry-After), then the next route is tried; a timeout, no connection, a cut, or a 501/505 (the
server does not do this) goes straight to the next route (a hung provider stays hung); any other
error (a 4xx about the request, a redirect) stops. All of this happens only before the first
byte reached the caller: an attempt ``commit``s when it sends something on, and from then on its
failure is the caller's.

Two clocks bound the wait: each attempt gets ``first_byte_s`` to commit, and all attempts
together get ``deadline_s``; both stop when an attempt commits (an answer under way is never
cut). While an attempt waits, ``notice`` (if given) hears about it once, so a CLI whose output
is piped can say on stderr what it is waiting for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from promptready.providers.errors import (
    UpstreamError,
    UpstreamHTTPError,
    UpstreamTimeoutError,
)
from promptready.providers.retry import RetryPolicy, is_worth_retrying_here

if TYPE_CHECKING:
    from promptready.providers.openai_compat import ChatResult, RawResponse, StreamEvent
    from promptready.providers.presets import ProviderConfig

Sleep = Callable[[float], Awaitable[None]]
Notice = Callable[[str], None]
T = TypeVar("T")


class Provider(Protocol):
    """What a route calls: an OpenAI-compatible upstream (BYOK providers, the credit proxy)."""

    name: str
    config: ProviderConfig

    async def chat(self, body: dict[str, Any]) -> ChatResult: ...

    def stream_chat(self, body: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]: ...

    def forward(self, path: str, body: bytes) -> AbstractAsyncContextManager[RawResponse]: ...

    async def list_models(self) -> list[str]: ...


@dataclass(frozen=True)
class Route:
    """One model at one provider."""

    provider: Provider
    model: str

    @property
    def label(self) -> str:
        return f"{self.provider.name}/{self.model}"


@dataclass(frozen=True)
class FallbackPolicy:
    """How long to wait and what to try again (None: no bound)."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    first_byte_s: float | None = None  # per attempt, until it commits
    deadline_s: float | None = None  # all attempts together
    deadline_setting: str = "ai.deadline_s"  # named in errors, so the user can raise them
    first_byte_setting: str = "ai.first_byte_s"
    notice_after_s: float = 2.0  # or half the attempt's clock, if that is sooner

    def next_try_in(self, error: UpstreamError, attempt: int) -> float | None:
        """Seconds before trying the same route again, or None to move on to the next one."""
        if isinstance(error, UpstreamHTTPError) and is_worth_retrying_here(error.status):
            return self.retry.delay(attempt, error.retry_after)
        return None


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


class DeadlineError(UpstreamTimeoutError):
    """No route answered within the overall deadline."""

    retryable = False


class Attempt:
    """One try of one route, handed to the call: ``final`` says no try follows (so an error
    answer is the one to pass on); ``commit`` marks the first byte sent on; ``record`` writes
    the hop early, for a call that settles its ledger row before it returns."""

    __slots__ = (
        "_attempts", "_notice", "_timeout", "committed", "final", "number", "recorded", "route",
    )  # fmt: skip

    def __init__(self, route: Route, number: int, final: bool, attempts: Attempts) -> None:
        self.route = route
        self.number = number
        self.final = final
        self.committed = False
        self.recorded = False
        self._attempts = attempts
        self._timeout: asyncio.Timeout | None = None
        self._notice: asyncio.TimerHandle | None = None

    def record(self, outcome: str) -> None:
        """This attempt's hop, now (once)."""
        if not self.recorded:
            self.recorded = True
            self._attempts.record(self.route, outcome)

    def commit(self) -> None:
        """The first byte went on: no fallback from here, and no first-byte clock."""
        if not self.committed:
            self.committed = True
            if self._timeout is not None:
                self._timeout.reschedule(None)
            if self._notice is not None:
                self._notice.cancel()


def outcome_label(error: UpstreamError) -> str:
    """How a failed attempt ended, for its hop: an HTTP status or ``timeout``, ``unreachable``..."""
    if isinstance(error, UpstreamHTTPError):
        return str(error.status)
    return type(error).__name__.removeprefix("Upstream").removesuffix("Error").lower()


async def attempt_routes(
    routes: Sequence[Route],
    call: Callable[[Attempt], Awaitable[T]],
    policy: FallbackPolicy,
    attempts: Attempts,
    *,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    notice: Notice | None = None,
) -> T:
    """Run ``call`` on each route in turn, as the policy says, until one returns; its result.

    Raises AllRoutesFailedError when none did (before committing), or the error of a committed
    attempt as it is.
    """
    if not routes:
        raise ValueError("no routes to try")
    deadline = None if policy.deadline_s is None else clock() + policy.deadline_s
    last: UpstreamError | None = None
    for index, route in enumerate(routes):
        final_route = index == len(routes) - 1
        number = 0
        while True:
            number += 1
            left = None if deadline is None else deadline - clock()
            if left is not None and left <= 0:
                raise AllRoutesFailedError(_deadline(policy, route), attempts)
            final = final_route and number >= policy.retry.attempts
            attempt = Attempt(route, number, final, attempts)
            try:
                result = await _timed(call, attempt, policy, left, notice)
            except UpstreamError as error:
                label = ("ok→" if attempt.committed else "") + outcome_label(error)
                if attempt.recorded:
                    attempts.hops[-1] = Hop(route.label, label)
                else:
                    attempts.record(route, label)
                if attempt.committed:
                    raise
                last = error
                if not error.retryable:
                    raise AllRoutesFailedError(error, attempts) from None
                wait = policy.next_try_in(error, number)
                if wait is None or (deadline is not None and clock() + wait >= deadline):
                    break  # on to the next route
                await sleep(wait)
                continue
            attempt.record("ok")
            return result
    assert last is not None
    raise AllRoutesFailedError(last, attempts)


async def _timed(
    call: Callable[[Attempt], Awaitable[T]],
    attempt: Attempt,
    policy: FallbackPolicy,
    left: float | None,
    notice: Notice | None,
) -> T:
    """One attempt under its first-byte clock (and what is left of the deadline)."""
    limit = _smaller(policy.first_byte_s, left)
    if limit is None and notice is None:
        return await call(attempt)  # no clock and no one to tell: no timers
    route = attempt.route
    loop = asyncio.get_running_loop()
    if notice is not None:
        message = f"waiting for {route.label}" + (f" (up to {limit:.0f} s more)" if limit else "")
        after = policy.notice_after_s if limit is None else min(policy.notice_after_s, limit / 2)
        attempt._notice = loop.call_later(after, notice, message)
    try:
        async with asyncio.timeout(limit) as timeout:
            attempt._timeout = timeout
            return await call(attempt)
    except TimeoutError:
        if left is not None and limit == left:
            raise _deadline(policy, route) from None
        name = route.provider.name
        raise UpstreamTimeoutError(
            f"{name} sent nothing within {limit:g} s ({policy.first_byte_setting}).", name
        ) from None
    finally:
        if attempt._notice is not None:
            attempt._notice.cancel()


def _deadline(policy: FallbackPolicy, route: Route) -> DeadlineError:
    return DeadlineError(
        f"No model answered within {policy.deadline_s:g} s; try again, or give it longer with "
        f"the {policy.deadline_setting} setting.",
        route.provider.name,
    )


def _smaller(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


async def chat_with_fallback(
    routes: Sequence[Route],
    body: dict[str, Any],
    *,
    policy: FallbackPolicy | None = None,
    attempts: Attempts | None = None,
    sleep: Sleep = asyncio.sleep,
    notice: Notice | None = None,
) -> ChatResult:
    """A non-streaming chat completion on the first route that succeeds."""
    attempts = attempts if attempts is not None else Attempts()

    async def call(attempt: Attempt) -> ChatResult:
        return await attempt.route.provider.chat({**body, "model": attempt.route.model})

    return await attempt_routes(
        routes, call, policy or FallbackPolicy(), attempts, sleep=sleep, notice=notice
    )


async def stream_with_fallback(
    routes: Sequence[Route],
    body: dict[str, Any],
    *,
    policy: FallbackPolicy | None = None,
    attempts: Attempts | None = None,
    sleep: Sleep = asyncio.sleep,
    notice: Notice | None = None,
) -> AsyncIterator[tuple[Route, StreamEvent]]:
    """Stream from the first route that produces a first event; no retry after that event."""
    attempts = attempts if attempts is not None else Attempts()

    async def open_stream(
        attempt: Attempt,
    ) -> tuple[Route, AsyncGenerator[StreamEvent, None], StreamEvent]:
        route = attempt.route
        stream = route.provider.stream_chat({**body, "model": route.model})
        try:
            return route, stream, await anext(stream)
        except BaseException:
            await stream.aclose()
            raise

    route, stream, event = await attempt_routes(
        routes, open_stream, policy or FallbackPolicy(), attempts, sleep=sleep, notice=notice
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
