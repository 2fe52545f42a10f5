"""OpenAI endpoints passed through to the routed upstream, JSON or SSE: chat completions,
embeddings and the Responses API.

The body is parsed once (orjson) to route and meter it; everything the gateway does not need is
forwarded untouched. Upstream SSE is re-framed and relayed by ``wire.StreamRelay`` as whole
events arrive: the usage event is read for the ledger and dropped when the client did not ask.

Fallbacks go through the providers' one route loop (``routing.attempt_routes``): while nothing
has reached the client, a failure another model may not share (a status ``retry.is_retryable``
accepts, as AI mode does: 408, 409, 429, 5xx; no connection, a timeout, a cut) moves on to the
next route; the last route's answer is passed through whatever it is. An attempt commits at its
first relayed event (a stream), its upstream's 200 headers (JSON) or an error answer it passes
on: from then on a failure ends the answer with an error, never a second model's answer.

The clocks are AI mode's settings: all routes together get ``ai.deadline_s`` until one commits
(then a long answer runs on), and a stream's route silent for ``ai.first_byte_s`` is left for the
next one.

The last byte of every answer waits for ``Call.finish`` (the ledger row's commit), so an answered
request always has its row, even if the process is killed the next moment.
"""

from __future__ import annotations

import string
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson

from promptready.gateway.asgi import SSE_HEADERS, Headers, Send, send_bytes
from promptready.gateway.errors import GatewayError
from promptready.providers.errors import UpstreamError, UpstreamHTTPError
from promptready.providers.openai_compat import RawResponse
from promptready.providers.retry import RetryPolicy, is_retryable
from promptready.providers.routing import (
    AllRoutesFailedError,
    Attempt,
    Attempts,
    DeadlineError,
    FallbackPolicy,
    Route,
    attempt_routes,
    outcome_label,
)
from promptready.providers.wire import (
    DONE,
    StreamRelay,
    Usage,
    data_event,
    usage_of,
    wants_usage,
    with_usage_requested,
)

_PRINTABLE = "".join(c for c in string.printable if c.isprintable() and c != "%")
# The gateway does not retry a route itself (clients' SDKs do): one try per route, then the next.
ONE_TRY = RetryPolicy(attempts=1)


def gateway_policy(deadline_s: float, first_byte_s: float | None = None) -> FallbackPolicy:
    """One try per route, all of them within ``deadline_s`` until one commits; with
    ``first_byte_s`` (streams), a route silent that long is left for the next one."""
    # No first-byte clock for JSON: its first byte is the whole answer, which takes as long as
    # the model writes.
    return FallbackPolicy(ONE_TRY, first_byte_s=first_byte_s, deadline_s=deadline_s)


async def _nothing() -> None:
    return None


@dataclass
class Outcome:
    """What one proxied call did, for the ledger row."""

    status: int = 0
    usage: Usage | None = None
    ttft_ms: float | None = None
    error_code: str | None = None
    body: bytes | None = None  # a successful chat completion, for the response cache
    cache_hit: bool = False  # answered from the response cache, at no cost
    cancelled: bool = False  # the client went away first


@dataclass
class Call:
    """One request on its way: the routes to try, the client's body, and where the answer goes."""

    routes: Sequence[Route]
    path: str  # upstream path under the base URL, e.g. "/chat/completions"
    request: dict[str, Any]  # the client's parsed body
    send: Send
    headers: Headers  # ours, added to the upstream's (x-request-id)
    outcome: Outcome
    started: float
    attempts: Attempts = field(default_factory=Attempts)
    route: Route | None = None  # the route that answered, or the last one tried
    keep_stream: bool = False  # rebuild a chat stream's answer so the cache can keep it
    policy: FallbackPolicy = field(default_factory=lambda: FallbackPolicy(ONE_TRY))
    finish: Callable[[], Awaitable[None]] = _nothing  # awaited before the answer's last byte
    relayed: list[bytes] = field(default_factory=list)  # stream bytes sent, for a partial count

    def hops(self) -> str | None:
        """The attempts for the ledger row, when there was more than one."""
        return self.attempts.summary() if len(self.attempts.hops) > 1 else None


def route_headers(route: Route) -> Headers:
    """Which provider and model answered (after a fallback, not the one asked for)."""
    return [
        (b"x-promptready-provider", route.provider.name.encode()),
        (b"x-promptready-model", header_value(route.model)),
    ]


def header_value(text: str) -> bytes:
    """``text`` as a header value: model names come from clients, and a control character in a
    header would make the server drop the connection; anything but printable ASCII is
    percent-encoded (UTF-8)."""
    if text.isascii() and text.isprintable():
        return text.encode()
    return quote(text, safe=_PRINTABLE).encode()


def prepare_body(request: dict[str, Any], route: Route) -> tuple[bytes, bool]:
    """The upstream body (model replaced, usage requested on chat streams) and whether the
    client asked for the usage chunk itself."""
    body = dict(request)
    body["model"] = route.model
    client_wants_usage = False
    if body.get("stream") is True and "messages" in body:
        client_wants_usage = wants_usage(body)
        if route.provider.config.stream_usage and not client_wants_usage:
            body = with_usage_requested(body)
    return orjson.dumps(body), client_wants_usage


async def relay_json(call: Call) -> None:
    """Forward a non-streaming request and its answer, status and body as the upstream sent them
    (the first route that does not fail in a way a fallback can fix)."""
    await _over_routes(call, _json_from)


async def relay_stream(call: Call) -> None:
    """Forward a streaming request: SSE events relayed unbuffered as they complete.

    Chat streams end in ``data: [DONE]`` (added if the upstream forgot); Responses API streams
    are typed ``event:`` streams with no ``[DONE]``, their usage in ``response.completed``.
    """
    await _over_routes(call, _stream_from)


async def _over_routes(call: Call, attempt: Callable[[Call, Attempt], Awaitable[None]]) -> None:
    async def one(this: Attempt) -> None:
        call.route = this.route
        await attempt(call, this)

    await attempt_routes(call.routes, one, call.policy, call.attempts)


def unavailable(call: Call, error: UpstreamError) -> GatewayError:
    """The answer when no route answered, or the one that started failed before anything
    reached the client; the row's code says whether the deadline ended it."""
    last = error.last if isinstance(error, AllRoutesFailedError) else error
    late = isinstance(last, DeadlineError)
    call.outcome.status = 502
    call.outcome.error_code = "deadline_exceeded" if late else "upstream_unavailable"
    return GatewayError(502, str(error), "upstream_unavailable", type="api_error", retry=True)


def _fall_back_or_pass(attempt: Attempt, status: int, payload: bytes) -> None:
    """Raise (so the loop tries the next route) when another route may do better, as AI mode
    would; else commit: this error answer is the one the client gets."""
    if not attempt.final and is_retryable(status):
        raise UpstreamHTTPError(attempt.route.provider.name, status, "", body=payload)
    attempt.commit()  # no clock may fire while the answer goes out


async def _json_from(call: Call, attempt: Attempt) -> None:
    """Send one route's JSON answer; raises when the next route should answer instead."""
    outcome, route = call.outcome, attempt.route
    body, _ = prepare_body(call.request, route)
    async with route.provider.forward(call.path, body) as response:
        if response.status == 200:
            attempt.commit()
        payload = await response.read()
    if response.status != 200:
        _fall_back_or_pass(attempt, response.status, payload)
    outcome.status = response.status
    outcome.ttft_ms = (time.perf_counter() - call.started) * 1000
    if response.status == 200:
        # A body that is not JSON is passed through as sent; its ledger row has no usage.
        try:
            parsed = orjson.loads(payload)
        except orjson.JSONDecodeError:
            parsed = None
        outcome.usage = usage_of(parsed)
        if parsed is not None:
            outcome.body = payload
    else:
        outcome.error_code = f"upstream_{response.status}"
    content_type = next(
        ((k, v) for k, v in response.headers if k == b"content-type"),
        (b"content-type", b"application/json"),
    )
    others = [(k, v) for k, v in response.headers if k != b"content-type"]
    headers = [*others, *call.headers, *route_headers(route)]
    attempt.record("ok" if response.status == 200 else str(response.status))
    await call.finish()
    await send_bytes(call.send, response.status, payload, headers, content_type)


async def _stream_from(call: Call, attempt: Attempt) -> None:
    """Relay one route's stream; raises when it failed early and the next route should answer.

    The response starts with the first whole event, so an upstream that fails before sending
    one can still be replaced by a fallback.
    """
    outcome, send, route = call.outcome, call.send, attempt.route
    chat = call.path == "/chat/completions"
    body, client_wants_usage = prepare_body(call.request, route)
    async with route.provider.forward(call.path, body) as response:
        outcome.status = response.status
        if response.status != 200:
            await _error_answer(call, attempt, response)
            return
        relay = StreamRelay(client_wants_usage or not chat, keep=call.keep_stream and chat)
        relayed = call.relayed
        out = b""  # the tail: from [DONE] on, sent once the row is committed
        try:
            async for chunk in response.chunks:
                more = relay.feed(chunk)
                if relay.done or not more:
                    out += more
                    continue
                if not attempt.committed:
                    await _start(call, attempt)
                relayed.append(more)
                await send({"type": "http.response.body", "body": more, "more_body": True})
            out += relay.close()
        except UpstreamError as error:
            if not attempt.committed:
                raise
            outcome.usage = relay.usage
            await _cut(call, attempt, error, chat)
            return
    outcome.usage = relay.usage
    rebuilt = relay.completion()
    if rebuilt is not None:
        outcome.body = orjson.dumps(rebuilt)
    if not relay.done and chat:
        out += DONE
    # The whole stream may have come in one read: then the head goes out with it, after the
    # row's commit (not alone before the wait).
    started = attempt.committed
    if not started:
        _commit(call, attempt)
    relayed.append(out)
    attempt.record("ok")
    await call.finish()
    if not started:
        await _send_head(call, attempt)
    await send({"type": "http.response.body", "body": out, "more_body": False})


async def _error_answer(call: Call, attempt: Attempt, response: RawResponse) -> None:
    """An upstream error status: on to the next route, or passed through as it came."""
    payload = await response.read()
    _fall_back_or_pass(attempt, response.status, payload)
    call.outcome.error_code = f"upstream_{response.status}"
    headers = [*response.headers, *call.headers, *route_headers(attempt.route)]
    attempt.record(str(response.status))
    await call.finish()
    await send_bytes(call.send, response.status, payload, headers)


async def _cut(call: Call, attempt: Attempt, error: UpstreamError, chat: bool) -> None:
    """The upstream failed mid-stream: the stream ends with an error event (no other model)."""
    call.outcome.error_code = "upstream_stream_cut"
    gone = GatewayError(502, str(error), "upstream_stream_error", type="api_error").body()
    tail = data_event(gone) + DONE if chat else b"event: error\n" + data_event(gone)
    attempt.record(f"ok→{outcome_label(error)}")
    await call.finish()
    await call.send({"type": "http.response.body", "body": tail, "more_body": False})


async def _start(call: Call, attempt: Attempt) -> None:
    """Commit the attempt and start the client's response."""
    _commit(call, attempt)
    await _send_head(call, attempt)


def _commit(call: Call, attempt: Attempt) -> None:
    """The attempt answers (no fallback from here on); its first byte's time is now."""
    attempt.commit()
    call.outcome.ttft_ms = (time.perf_counter() - call.started) * 1000


async def _send_head(call: Call, attempt: Attempt) -> None:
    """The stream's status and headers."""
    await call.send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*SSE_HEADERS, *call.headers, *route_headers(attempt.route)],
        }
    )
