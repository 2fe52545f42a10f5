"""``POST /v1/chat/completions``: OpenAI-compatible, JSON or SSE, charged by tokens.

Each request holds its worst case (prompt plus the completion limit) before the upstream call
and settles to the upstream's reported usage after it. A failed call releases the hold. Once a
stream has started, an upstream failure is sent as a chunk with ``finish_reason: "error"``, and
a stream cut short (upstream failure, client gone, task cancelled) settles what was streamed,
or releases when nothing was (see ``costs`` for the fallback when usage is missing).

Where the upstream reports usage, the answer's ``usage`` also carries ``credits_charged``: the
device's cohort model is the service's to choose, so only the service knows what a call cost,
and the desktop ledger records that number rather than its own guess.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from promptready.cloud import logs
from promptready.cloud.errors import ApiError, upstream_failed
from promptready.cloud.routes import charging
from promptready.cloud.routes.chat_request import ChatRequest, parse_chat
from promptready.cloud.routes.costs import ESTIMATE_MODEL, Charge
from promptready.cloud.routes.deps import Deps
from promptready.cloud.routes.wire import (
    SSE_HEADERS,
    Receive,
    Scope,
    Send,
    authenticate,
    read_object,
    send_bytes,
)
from promptready.cloud.store import Admission, Replay
from promptready.cloud.upstream import Chunk, Target, UpstreamError
from promptready.providers.wire import (
    DONE,
    Usage,
    data_event,
    delta_text,
    event_bytes,
    is_usage_only,
)
from promptready.tokens import count_messages, count_text


class ChatCompletions:
    """The endpoint."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        deps = self.deps
        device_id = authenticate(deps, scope)
        key = charging.idempotency_key(scope)
        request = parse_chat(await read_object(receive))
        prompt_tokens = count_messages(request.messages, ESTIMATE_MODEL).tokens
        estimate = deps.pricer.chat_hold(prompt_tokens, request.max_tokens * request.choices)
        admitted = await charging.admit_or_replay(deps, device_id, estimate, key, send)
        if admitted is None:
            return
        call = _Call(deps, admitted, request, prompt_tokens)
        if request.stream:
            await call.stream(receive, send)
        else:
            await call.complete(send, key is not None)


def refused(error: UpstreamError) -> ApiError:
    """The answer for an upstream failure before anything was sent (nothing was charged)."""
    if error.client_fault and error.status is not None:
        return ApiError(error.status, str(error), "upstream_rejected", retry=False)
    return upstream_failed(str(error))


@dataclass
class _Call:
    """One admitted request: the upstream call and the settle or release of its hold."""

    deps: Deps
    admission: Admission
    request: ChatRequest
    prompt_tokens: int
    pieces: list[str] = field(default_factory=list)
    usage: Usage | None = None
    priced: tuple[Usage, Charge] | None = None  # the last usage priced, and its charge
    started: float = field(default_factory=time.perf_counter)

    @property
    def model(self) -> str:
        return self.admission.model

    def _body(self) -> dict[str, Any]:
        return self.request.upstream_body(self.model)

    def _target(self) -> Target:
        return self.deps.config.target(self.admission.cohort, self.model)

    def charge(self) -> Charge:
        """From the upstream's usage, else the documented fallback (never zero)."""
        usage = self.usage
        if usage is None:
            pieces = "".join(self.pieces)
            return self._price(
                Usage(self.prompt_tokens, max(1, count_text(pieces, ESTIMATE_MODEL).tokens))
            )
        # The answer's ``credits_charged`` and the settle both ask: price each usage once.
        if self.priced is None or self.priced[0] is not usage:
            self.priced = (usage, self._price(usage))
        return self.priced[1]

    def _price(self, usage: Usage) -> Charge:
        return self.deps.pricer.chat_charge(self.model, usage)

    async def complete(self, send: Send, replayable: bool) -> None:
        """A JSON completion: call, settle, answer."""
        async with charging.released_on_failure(self.deps, self.admission, refused):
            reply = await self.deps.upstream.complete(self._target(), self._body())
        self.usage = reply.usage
        if self.usage is None:
            self.pieces = [_message_text(reply.payload)]
        body = orjson.dumps(self._with_credits(reply.payload))
        await self._settle("ok", Replay(200, body, "application/json") if replayable else None)
        self.deps.metrics.upstream_took(self.admission.cohort.name, reply.latency_s)
        await send_bytes(send, 200, body)

    async def stream(self, receive: Receive, send: Send) -> None:
        """An SSE completion: the first chunk decides between an HTTP error and a stream."""
        chunks = self.deps.upstream.stream(self._target(), self._body())
        async with charging.released_on_failure(self.deps, self.admission, refused):
            first = await anext(chunks, None)
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        relay = asyncio.ensure_future(self._relay(first, chunks, send))
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({relay, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not relay.done():
                relay.cancel()  # the client left: stop reading the upstream, settle the partial
            await asyncio.wait({relay})
        if not relay.cancelled() and relay.exception() is not None:
            raise relay.exception()  # type: ignore[misc]

    async def _relay(self, first: Chunk | None, chunks: AsyncIterator[Chunk], send: Send) -> None:
        """Forward the stream; settle before the last byte goes out (or on any cancellation:
        CancelledError and GeneratorExit pass through the ``finally``)."""
        outcome = "cancelled"
        try:
            try:
                if first is not None:
                    await self._forward(first, send)
                    async for chunk in chunks:
                        await self._forward(chunk, send)
                outcome, tail = "ok", DONE
            except UpstreamError as error:
                outcome, tail = "error", self._error_chunk(str(error))
        finally:
            with contextlib.suppress(Exception):
                await chunks.aclose()  # type: ignore[attr-defined]
            await self._finish(outcome)
        await send({"type": "http.response.body", "body": tail, "more_body": False})

    async def _forward(self, chunk: Chunk, send: Send) -> None:
        usage = chunk.usage
        if usage is not None:
            self.usage = usage
        text = delta_text(chunk.parsed)
        if text:
            self.pieces.append(text)
        if not self.request.include_usage and is_usage_only(chunk.parsed):
            return
        if usage is None:
            body = data_event(chunk.data)  # forwarded as the upstream wrote it
        else:
            body = event_bytes(self._with_credits(chunk.parsed))
        await send({"type": "http.response.body", "body": body, "more_body": True})

    def _with_credits(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``payload`` with what this call is charged in its ``usage`` (when it has one)."""
        usage = payload.get("usage")
        if not isinstance(usage, dict) or self.usage is None:
            return payload
        return {**payload, "usage": {**usage, "credits_charged": self.charge().credits}}

    def _error_chunk(self, message: str) -> bytes:
        error = {
            "message": message,
            "type": "upstream_error",
            "param": None,
            "code": "upstream_error",
        }
        chunk = {
            "object": "chat.completion.chunk",
            "model": self.model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "error"}],
            "error": error,
        }
        return event_bytes(chunk) + DONE

    async def _finish(self, outcome: str) -> None:
        """Settle what was used, or release when the stream produced nothing."""
        if outcome != "ok" and self.usage is None and not self.pieces:
            await charging.release(self.deps, self.admission)
            return
        try:
            await self._settle(outcome, None)
        except Exception as exc:
            logs.get().error("settle failed", extra=logs.fields(error=type(exc).__name__))
        self.deps.metrics.upstream_took(
            self.admission.cohort.name, time.perf_counter() - self.started
        )

    async def _settle(self, status: str, response: Replay | None) -> None:
        await charging.settle(
            self.deps,
            self.admission,
            self.charge(),
            model=self.model,
            latency_ms=int((time.perf_counter() - self.started) * 1000),
            status=status,
            response=response,
        )


async def _disconnected(receive: Receive) -> None:
    """Return once the client has gone away."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _message_text(payload: dict[str, Any]) -> str:
    texts: list[str] = []
    for choice in payload.get("choices") or ():
        message = choice.get("message") if isinstance(choice, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
    return "".join(texts)
