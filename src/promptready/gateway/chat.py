"""OpenAI endpoints passed through to the routed upstream, JSON or SSE: chat completions,
embeddings and the Responses API.

The body is parsed once (orjson) to route and meter it; everything the gateway does not need is
forwarded untouched. Upstream SSE events are relayed as they arrive, whole events at a time: the
usage event is read for the ledger and dropped when the client did not ask for it.

Fallbacks: a call carries its routes (the model, then the configured fallbacks, or the ``auto``
ranking). While nothing has reached the client, a failure another model may not share (429,
5xx, no connection, a timeout, a cut) moves on to the next route; the last route's answer is
passed through whatever it is. A stream commits at its first relayed event: from then on a
failure ends the stream with an error event, never a second model's answer.
"""

from __future__ import annotations

import contextlib
import string
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson

from promptready.gateway.asgi import SSE_HEADERS, Headers, Send, send_bytes
from promptready.gateway.cache import completion_from_sse
from promptready.gateway.errors import GatewayError
from promptready.providers.errors import UpstreamError
from promptready.providers.routing import AllRoutesFailedError, Attempts, Route, outcome_label

_EVENT_END = b"\n\n"
_DONE = b"data: [DONE]\n\n"
_PRINTABLE = "".join(c for c in string.printable if c.isprintable() and c != "%")


@dataclass
class Outcome:
    """What one proxied call did, for the ledger row."""

    status: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: float | None = None
    error_code: str | None = None
    body: bytes | None = None  # a successful JSON answer, for the response cache
    cache_hit: bool = False  # answered from the response cache, at no cost


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
    keep_stream: bool = False  # keep a chat stream's events so the cache can rebuild the answer

    def hops(self) -> str | None:
        """The attempts for the ledger row, when there was more than one."""
        return self.attempts.summary() if len(self.attempts.hops) > 1 else None


def can_fall_back(status: int) -> bool:
    """Whether another model may answer where this status came back: rate limits and server
    errors are the upstream's state; any other 4xx is about the request and would repeat."""
    return status == 429 or status >= 500


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
    """The upstream body (model replaced, usage requested on streams) and whether the client
    asked for the usage chunk itself."""
    body = dict(request)
    body["model"] = route.model
    client_wants_usage = False
    if body.get("stream") is True and "messages" in body:
        options = body.get("stream_options")
        client_wants_usage = isinstance(options, dict) and options.get("include_usage") is True
        if route.provider.config.stream_usage and not client_wants_usage:
            body["stream_options"] = {
                **(options if isinstance(options, dict) else {}),
                "include_usage": True,
            }
    return orjson.dumps(body), client_wants_usage


def _usage_of(payload: Any, outcome: Outcome) -> None:
    """Token counts from a chat, embeddings or Responses API body (or its completed event)."""
    if not isinstance(payload, dict):
        return
    if isinstance(payload.get("response"), dict):  # Responses API stream: response.completed
        payload = payload["response"]
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return
    prompt = usage.get("prompt_tokens", usage.get("input_tokens"))
    completion = usage.get("completion_tokens", usage.get("output_tokens", 0))
    if isinstance(prompt, int) and isinstance(completion, int):
        outcome.prompt_tokens, outcome.completion_tokens = prompt, completion


def _split_complete(pending: bytes) -> tuple[bytes, bytes]:
    """Whole events (LF or CRLF framed) and the partial rest, so events are relayed intact."""
    lf = pending.rfind(b"\n\n")
    crlf = pending.rfind(b"\r\n\r\n")
    cut = max(lf + 2 if lf != -1 else 0, crlf + 4 if crlf != -1 else 0)
    return pending[:cut], pending[cut:]


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


async def _over_routes(call: Call, attempt: Callable[[Call, Route, bool], Awaitable[bool]]) -> None:
    """Try the call's routes in order until ``attempt`` answers the client (True); a failure
    raised before anything reached the client moves on when a fallback may fix it."""
    last = len(call.routes) - 1
    for index, route in enumerate(call.routes):
        call.route = route
        may_fall_back = index < last
        try:
            if await attempt(call, route, may_fall_back):
                return
        except UpstreamError as error:
            call.attempts.record(route, outcome_label(error))
            if not may_fall_back or not error.retryable:
                raise AllRoutesFailedError(error, call.attempts) from None


async def _json_from(call: Call, route: Route, may_fall_back: bool) -> bool:
    """Send one route's JSON answer; False when it failed and the next route should answer."""
    outcome = call.outcome
    body, _ = prepare_body(call.request, route)
    async with route.provider.forward(call.path, body) as response:
        payload = b"".join([chunk async for chunk in response.chunks])
    call.attempts.record(route, "ok" if response.status == 200 else str(response.status))
    if may_fall_back and can_fall_back(response.status):
        return False
    outcome.status = response.status
    outcome.ttft_ms = (time.perf_counter() - call.started) * 1000
    if response.status == 200:
        # A body that is not JSON is passed through as sent; its ledger row has no usage.
        with contextlib.suppress(orjson.JSONDecodeError):
            _usage_of(orjson.loads(payload), outcome)
            outcome.body = payload
    else:
        outcome.error_code = f"upstream_{response.status}"
    content_type = next(
        ((k, v) for k, v in response.headers if k == b"content-type"),
        (b"content-type", b"application/json"),
    )
    others = [(k, v) for k, v in response.headers if k != b"content-type"]
    headers = [*others, *call.headers, *route_headers(route)]
    await send_bytes(call.send, response.status, payload, headers, content_type)
    return True


async def _stream_from(call: Call, route: Route, may_fall_back: bool) -> bool:
    """Relay one route's stream; False when it failed early and the next route should answer.

    The response starts with the first whole event, so an upstream that fails before sending
    one can still be replaced by a fallback.
    """
    outcome, send = call.outcome, call.send
    chat = call.path == "/chat/completions"
    body, client_wants_usage = prepare_body(call.request, route)
    async with route.provider.forward(call.path, body) as response:
        outcome.status = response.status
        if response.status != 200:
            payload = b"".join([chunk async for chunk in response.chunks])
            call.attempts.record(route, str(response.status))
            if may_fall_back and can_fall_back(response.status):
                return False
            outcome.error_code = f"upstream_{response.status}"
            headers = [*response.headers, *call.headers, *route_headers(route)]
            await send_bytes(send, response.status, payload, headers)
            return True
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [*SSE_HEADERS, *call.headers, *route_headers(route)],
        }
        started = False
        pending = b""
        saw_done = False
        kept: list[bytes] | None = [] if call.keep_stream and chat else None
        try:
            async for chunk in response.chunks:
                complete, pending = _split_complete(pending + chunk)
                if not complete:
                    continue
                if kept is not None:
                    kept.append(complete)
                out = _filter_events(complete, client_wants_usage or not chat, outcome)
                saw_done = saw_done or _DONE in complete
                if out:
                    if not started:
                        outcome.ttft_ms = (time.perf_counter() - call.started) * 1000
                        await send(start)
                        started = True
                    await send({"type": "http.response.body", "body": out, "more_body": True})
        except UpstreamError as error:
            if not started:
                raise
            call.attempts.record(route, f"ok→{outcome_label(error)}")
            outcome.error_code = "upstream_stream_cut"
            event = GatewayError(502, str(error), "upstream_stream_error", type="api_error").body()
            tail = (
                b"data: " + event + _EVENT_END + _DONE
                if chat
                else b"event: error\n" + (b"data: " + event + _EVENT_END)
            )
            await send({"type": "http.response.body", "body": tail, "more_body": False})
            return True
        call.attempts.record(route, "ok")
        if kept is not None and (saw_done or pending == b""):
            outcome.body = completion_from_sse(b"".join(kept))
        if not started:
            await send(start)
        tail = b"" if saw_done or not chat else _DONE
        await send({"type": "http.response.body", "body": tail, "more_body": False})
        return True


def _filter_events(block: bytes, keep_usage: bool, outcome: Outcome) -> bytes:
    """Read usage from whole events; drop the usage-only event unless the client asked for it."""
    if b'"usage"' not in block:
        return block
    kept: list[bytes] = []
    for event in block.split(_EVENT_END):
        if not event:
            continue
        if b'"usage"' in event:
            try:
                payload = orjson.loads(_data_of(event))
            except orjson.JSONDecodeError:
                payload = None
            _usage_of(payload, outcome)
            usage_only = isinstance(payload, dict) and payload.get("choices") == []
            if usage_only and not keep_usage:
                continue
        kept.append(event + _EVENT_END)
    return b"".join(kept)


def _data_of(event: bytes) -> bytes:
    """The data field(s) of one SSE event, joined as the SSE rules join them."""
    lines = event.replace(b"\r\n", b"\n").split(b"\n")
    return b"\n".join(line[5:].removeprefix(b" ") for line in lines if line.startswith(b"data:"))
