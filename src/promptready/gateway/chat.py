"""OpenAI endpoints passed through to the routed upstream, JSON or SSE: chat completions,
embeddings and the Responses API.

The body is parsed once (orjson) to route and meter it; everything the gateway does not need is
forwarded untouched. Upstream SSE events are relayed as they arrive, whole events at a time: the
usage event is read for the ledger and dropped when the client did not ask for it.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

import orjson

from promptready.gateway.asgi import SSE_HEADERS, Headers, Send, send_bytes
from promptready.gateway.errors import GatewayError
from promptready.providers.errors import UpstreamError
from promptready.providers.routing import Route

_EVENT_END = b"\n\n"
_DONE = b"data: [DONE]\n\n"


@dataclass
class Outcome:
    """What one proxied call did, for the ledger row."""

    status: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: float | None = None
    error_code: str | None = None
    body: bytes | None = None  # a successful JSON answer, for the response cache


@dataclass
class Call:
    """One request on its way: the route, the upstream body, and where the answer goes."""

    route: Route
    path: str  # upstream path under the base URL, e.g. "/chat/completions"
    body: bytes
    client_wants_usage: bool
    send: Send
    headers: Headers  # ours, added to the upstream's (x-request-id, chosen provider/model)
    outcome: Outcome
    started: float


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
    """Forward a non-streaming request and its answer, status and body as the upstream sent them."""
    outcome = call.outcome
    async with call.route.provider.forward(call.path, call.body) as response:
        outcome.status = response.status
        payload = b"".join([chunk async for chunk in response.chunks])
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
    await send_bytes(call.send, response.status, payload, [*others, *call.headers], content_type)


async def relay_stream(call: Call) -> None:
    """Forward a streaming request: SSE events relayed unbuffered as they complete.

    Chat streams end in ``data: [DONE]`` (added if the upstream forgot); Responses API streams
    are typed ``event:`` streams with no ``[DONE]``, their usage in ``response.completed``.
    """
    outcome, send, headers = call.outcome, call.send, call.headers
    chat = call.path == "/chat/completions"
    async with call.route.provider.forward(call.path, call.body) as response:
        outcome.status = response.status
        if response.status != 200:
            payload = b"".join([chunk async for chunk in response.chunks])
            outcome.error_code = f"upstream_{response.status}"
            await send_bytes(send, response.status, payload, [*response.headers, *headers])
            return
        await send(
            {"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS, *headers]}
        )
        pending = b""
        saw_done = False
        try:
            async for chunk in response.chunks:
                complete, pending = _split_complete(pending + chunk)
                if not complete:
                    continue
                out = _filter_events(complete, call.client_wants_usage or not chat, outcome)
                saw_done = saw_done or _DONE in complete
                if out:
                    if outcome.ttft_ms is None:
                        outcome.ttft_ms = (time.perf_counter() - call.started) * 1000
                    await send({"type": "http.response.body", "body": out, "more_body": True})
        except UpstreamError as error:
            outcome.error_code = "upstream_stream_cut"
            event = GatewayError(502, str(error), "upstream_stream_error", type="api_error").body()
            tail = (
                b"data: " + event + _EVENT_END + _DONE
                if chat
                else b"event: error\n" + (b"data: " + event + _EVENT_END)
            )
            await send({"type": "http.response.body", "body": tail, "more_body": False})
            return
        tail = b"" if saw_done or not chat else _DONE
        await send({"type": "http.response.body", "body": tail, "more_body": False})


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
