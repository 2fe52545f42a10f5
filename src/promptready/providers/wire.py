"""The OpenAI wire format, in one place: Server-Sent Events framing, token usage, chat chunks ↔
chat completions, and ``stream_options.include_usage``. Pure: bytes and dicts in, values out.

SSE framing follows the WHATWG event-stream rules: lines end in LF, CRLF or CR (a CR at the end
of one read may be the first half of a CRLF, so it waits for the next), ``:`` lines are comments,
several ``data:`` lines join with LF, and an event is dispatched at a blank line, however the
bytes were split. ``SSEFramer`` re-frames the stream with LF line ends and hands out whole
events as bytes (or all the events one read completed as one run), so a relay can forward them
unparsed and read only the ones it needs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeGuard

import orjson

DONE = b"data: [DONE]\n\n"
_EVENT_END = b"\n\n"
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event; ``data`` joins multi-line data fields with newlines."""

    data: str
    event: str = "message"
    id: str | None = None


class SSEFramer:
    """Feed raw bytes, get whole events back as LF-framed bytes (each ends in a blank line).

    A block of comments only (a keep-alive) is an event here too, so a relay passes it on.
    """

    __slots__ = ("_buffer", "_cr", "_started")

    def __init__(self) -> None:
        self._buffer = b""
        self._cr = False  # the last read ended in CR: its LF (if any) is in the next read
        self._started = False  # past a leading byte-order mark

    def feed(self, chunk: bytes) -> list[bytes]:
        """The events completed by ``chunk``, in order."""
        return split_events(self.feed_run(chunk))

    def feed_run(self, chunk: bytes) -> bytes:
        """The events completed by ``chunk`` as one run of bytes (``feed``'s events joined;
        empty when none completed): a relay forwards a run without cutting it up."""
        if not chunk:
            return b""
        if self._cr:
            self._cr = False
            chunk = b"\n" + (chunk[1:] if chunk[:1] == b"\n" else chunk)
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                self._cr = True
                chunk = chunk[:-1]
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = self._buffer + chunk if self._buffer else chunk
        if not self._started:
            if len(buffer) < len(_BOM) and _BOM.startswith(buffer):
                self._buffer = buffer
                return b""
            self._started = True
            buffer = buffer.removeprefix(_BOM)
        # A blank line at the start of a block dispatches nothing: skip it.
        start = 0
        while buffer.startswith(b"\n", start):
            start += 1
        # Every blank line ends an event (or is one more blank line): all before the last one
        # is whole events.
        cut = buffer.rfind(_EVENT_END, start)
        if cut == -1:
            self._buffer = buffer[start:] if start else buffer
            return b""
        self._buffer = buffer[cut + 2 :]
        run = buffer[start : cut + 2]
        if b"\n\n\n" in run:  # extra blank lines between events: dropped, as they dispatch nothing
            run = b"".join(split_events(run))
        return run

    def close(self) -> list[bytes]:
        """At the end of the stream: a pending CR ends its line (an unfinished event is dropped,
        as the spec says, and returned by nothing)."""
        if self._cr:
            self._cr = False
            return self.feed(b"\n")
        return []

    @property
    def pending(self) -> bytes:
        """Bytes of an event not finished yet."""
        return self._buffer


def split_events(run: bytes) -> list[bytes]:
    """The events of a run from ``SSEFramer.feed_run``, each ending in its blank line."""
    events: list[bytes] = []
    start, size = 0, len(run)
    while start < size:
        while run.startswith(b"\n", start):
            start += 1
        cut = run.find(_EVENT_END, start)
        if cut == -1:
            break
        events.append(run[start : cut + 2])
        start = cut + 2
    return events


@dataclass(frozen=True, slots=True)
class EventFields:
    """The fields of one framed event (``data`` is None when it has no data line)."""

    data: bytes | None
    event: bytes = b""
    id: bytes | None = None


def fields_of(block: bytes) -> EventFields:
    """Read the fields of one LF-framed event from ``SSEFramer``."""
    if block.startswith(b"data: ") and block.find(b"\n") == len(block) - 2:
        return EventFields(block[6:-2])  # the common case: one data line and nothing else
    data: list[bytes] = []
    event = b""
    event_id: bytes | None = None
    for line in block.split(b"\n"):
        if not line or line.startswith(b":"):
            continue
        name, _, value = line.partition(b":")
        value = value.removeprefix(b" ")
        if name == b"data":
            data.append(value)
        elif name == b"event":
            event = value
        elif name == b"id" and b"\0" not in value:
            event_id = value
    return EventFields(b"\n".join(data) if data else None, event, event_id)


def data_of(block: bytes) -> bytes | None:
    """The joined data of one framed event, or None for a comment-only block."""
    return fields_of(block).data


def data_fields(blocks: Iterable[bytes]) -> list[bytes]:
    """The data of each framed event that has some, in order (a keep-alive comment has none)."""
    found = []
    for block in blocks:
        data = data_of(block)
        if data is not None:
            found.append(data)
    return found


class SSEParser:
    """Feed raw bytes, get the events completed so far as ``SSEEvent`` (text fields)."""

    def __init__(self) -> None:
        self._framer = SSEFramer()
        self._id: str | None = None  # the last event id carries over, as in the spec

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Parse ``chunk``; a line split across chunks is kept until its end arrives."""
        return list(self._events(self._framer.feed(chunk)))

    def close(self) -> list[SSEEvent]:
        """Events completed by the end of the stream (a trailing CR)."""
        return list(self._events(self._framer.close()))

    def _events(self, blocks: Iterable[bytes]) -> Iterator[SSEEvent]:
        for block in blocks:
            found = fields_of(block)
            if found.id is not None:
                self._id = found.id.decode("utf-8", "replace")
            if found.data is None:
                continue
            yield SSEEvent(
                found.data.decode("utf-8", "replace"),
                found.event.decode("utf-8", "replace") or "message",
                self._id,
            )


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the upstream reported them (or as we estimated when it did not)."""

    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False
    credits_charged: int | None = None  # PromptReady's credit service says what it charged
    cached_tokens: int = 0  # of prompt_tokens: read from the provider's prompt cache
    # Of completion_tokens: informational only. OpenAI (and OpenRouter) already count reasoning
    # tokens in completion_tokens, so pricing them again would bill them twice.
    reasoning_tokens: int = 0
    cost_usd: Decimal | None = None  # what the upstream says the call cost (OpenRouter's cost)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_json(self) -> dict[str, int]:
        """The OpenAI ``usage`` object."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


def usage_of(payload: object) -> Usage | None:
    """The usage in a chat completion or chunk, an embeddings answer, or a Responses API body or
    its ``response.completed`` event; None when there is none (or it is not well formed)."""
    if not isinstance(payload, dict):
        return None
    response = payload.get("response")
    if isinstance(response, dict):  # Responses API stream event
        payload = response
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("prompt_tokens", usage.get("input_tokens"))
    completion = usage.get("completion_tokens", usage.get("output_tokens", 0))
    if not _is_count(prompt) or not _is_count(completion):
        return None
    credits = usage.get("credits_charged")
    cached = _detail(usage, ("prompt_tokens_details", "input_tokens_details"), "cached_tokens")
    if cached is None:
        cached = usage.get("prompt_cache_hit_tokens")  # DeepSeek's name for it
    reasoning = _detail(
        usage, ("completion_tokens_details", "output_tokens_details"), "reasoning_tokens"
    )
    return Usage(
        prompt,
        completion,
        credits_charged=credits if _is_count(credits) else None,
        cached_tokens=_part(cached, prompt),
        reasoning_tokens=_part(reasoning, completion),
        cost_usd=_upstream_cost(usage),
    )


# Bounds on what an upstream may claim for one call, so that a broken or hostile answer cannot
# overflow a ledger: no model reads a billion tokens, and none costs $1,000 a call.
MAX_CALL_TOKENS = 10**9
MAX_COST_USD = Decimal(1000)


def _is_count(value: object) -> TypeGuard[int]:
    """A non-negative int within bounds (bool is an int subclass; negative counts are nonsense)."""
    return type(value) is int and 0 <= value <= MAX_CALL_TOKENS


def _detail(usage: Mapping[str, Any], tables: tuple[str, ...], key: str) -> object:
    """``usage[table][key]`` from the first of ``tables`` present (None when absent)."""
    for table in tables:
        found = usage.get(table)
        if isinstance(found, dict):
            return found.get(key)
    return None


def _part(value: object, whole: int) -> int:
    """A count that is part of ``whole`` (cached of the prompt, reasoning of the completion); 0
    when absent or not one, so a bad value never lowers a price."""
    return value if _is_count(value) and value <= whole else 0


def _upstream_cost(usage: Mapping[str, Any]) -> Decimal | None:
    """OpenRouter's ``usage.cost`` in USD, None when absent or not a sane number. On a BYOK call
    that is only OpenRouter's fee: the provider's charge, in ``upstream_inference_cost``, is
    added (or the cost is unknown, and the caller prices the tokens itself)."""
    cost = _usd(usage.get("cost"))
    if cost is None or usage.get("is_byok") is not True:
        return cost
    details = usage.get("cost_details")
    inference = _usd(details.get("upstream_inference_cost") if isinstance(details, dict) else None)
    return None if inference is None or cost + inference > MAX_COST_USD else cost + inference


def _usd(value: object) -> Decimal | None:
    """A JSON number as USD: finite, from zero to ``MAX_COST_USD``, else None."""
    if type(value) is int:
        amount = Decimal(value)
    elif type(value) is float and math.isfinite(value):
        amount = Decimal(repr(value))  # the number as written, not its binary expansion
    else:
        return None
    return amount if 0 <= amount <= MAX_COST_USD else None


def is_usage_only(payload: object) -> bool:
    """Whether a chat chunk is the usage chunk ``include_usage`` adds (no choices)."""
    return isinstance(payload, dict) and payload.get("choices") == [] and "usage" in payload


def wants_usage(body: Mapping[str, Any]) -> bool:
    """Whether a streaming chat request asked for the usage chunk itself."""
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def with_usage_requested(body: dict[str, Any]) -> dict[str, Any]:
    """The body with ``stream_options.include_usage`` set, so a stream can be metered."""
    options = body.get("stream_options")
    return {
        **body,
        "stream_options": {**(options if isinstance(options, dict) else {}), "include_usage": True},
    }


def delta_text(payload: object) -> str:
    """The assistant text in a chat chunk (all choices)."""
    if not isinstance(payload, dict):
        return ""
    pieces = []
    for choice in payload.get("choices") or ():
        if isinstance(choice, dict):
            delta = choice.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(text, str) and text:
                pieces.append(text)
    return "".join(pieces)


def message_text(payload: object) -> str | None:
    """The assistant text of a chat completion's first choice; None when it is not one."""
    try:
        content = payload["choices"][0]["message"].get("content")  # type: ignore[index]
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return content if isinstance(content, str) else ("" if content is None else None)


def event_bytes(payload: Mapping[str, Any]) -> bytes:
    """One ``data:`` event for a JSON payload."""
    return b"data: " + orjson.dumps(payload) + _EVENT_END


def data_event(data: bytes) -> bytes:
    """One event carrying ``data`` as it is (serialised JSON, or data as ``data_fields`` reads
    it: LF line ends only), one ``data:`` line per line of it."""
    if b"\n" in data:  # JSON spread over lines: each line its own field, joined again on reading
        data = data.replace(b"\n", b"\ndata: ")
    return b"data: " + data + _EVENT_END


def completion(
    completion_id: str, model: str, content: str, usage: Usage | None, created: int | None = None
) -> dict[str, Any]:
    """A one-choice ``chat.completion`` answering ``content``."""
    body: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }
    if usage is not None:
        body["usage"] = usage.as_json()
    return body


def completion_as_sse(body: Mapping[str, Any], include_usage: bool) -> bytes:
    """A finished chat.completion as the SSE stream a streaming client expects: per choice its
    message as one delta then its finish reason, the usage chunk when asked, then [DONE]."""
    base = {
        "id": body.get("id", "chatcmpl-promptready"),
        "object": "chat.completion.chunk",
        "created": body.get("created", int(time.time())),
        "model": body.get("model"),
    }
    out = []
    for choice in body.get("choices", []):
        message = choice.get("message") or {}
        delta = {k: v for k, v in message.items() if v is not None}
        index = choice.get("index", 0)
        out.append({**base, "choices": [{"index": index, "delta": delta, "finish_reason": None}]})
        finish = choice.get("finish_reason")
        out.append({**base, "choices": [{"index": index, "delta": {}, "finish_reason": finish}]})
    if include_usage and body.get("usage") is not None:
        out.append({**base, "choices": [], "usage": body["usage"]})
    return b"".join(event_bytes(c) for c in out) + DONE


class CompletionBuilder:
    """Rebuild the chat.completion a chat stream amounts to, one chunk at a time.

    ``result`` is None for streams it cannot rebuild exactly (tool or function calls, an error
    event, a chunk that is not JSON, no chunk at all).
    """

    def __init__(self) -> None:
        self._choices: dict[int, dict[str, Any]] = {}
        self._base: dict[str, Any] = {}
        self._usage: Any = None
        self._broken = False

    def add(self, payload: object) -> None:
        """Take one chunk (parsed JSON)."""
        if self._broken:
            return
        if not isinstance(payload, dict) or "error" in payload:
            self._broken = True
            return
        self._base = self._base or {k: payload.get(k) for k in ("id", "created", "model")}
        self._usage = payload.get("usage") or self._usage
        for choice in payload.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("tool_calls") or delta.get("function_call"):
                self._broken = True
                return
            built = self._choices.setdefault(
                choice.get("index", 0), {"role": "assistant", "content": "", "finish": None}
            )
            built["role"] = delta.get("role") or built["role"]
            built["content"] += delta.get("content") or ""
            built["finish"] = choice.get("finish_reason") or built["finish"]

    def add_event(self, data: bytes) -> None:
        """Take one event's data (``[DONE]`` is ignored)."""
        if data == b"[DONE]":
            return
        try:
            self.add(orjson.loads(data))
        except orjson.JSONDecodeError:
            self._broken = True

    def result(self) -> dict[str, Any] | None:
        """The rebuilt completion, or None."""
        if self._broken or not self._choices:
            return None
        body: dict[str, Any] = {
            **self._base,
            "object": "chat.completion",
            "choices": [
                {
                    "index": index,
                    "message": {"role": c["role"], "content": c["content"]},
                    "finish_reason": c["finish"],
                }
                for index, c in sorted(self._choices.items())
            ],
        }
        if self._usage is not None:
            body["usage"] = self._usage
        return body


def completion_from_sse(stream: bytes) -> dict[str, Any] | None:
    """The chat.completion a whole chat stream amounts to (see ``CompletionBuilder``)."""
    framer = SSEFramer()
    builder = CompletionBuilder()
    for data in data_fields([*framer.feed(stream), *framer.close()]):
        builder.add_event(data)
    return builder.result()


def is_done(block: bytes) -> bool:
    """Whether a framed event is a chat stream's ``data: [DONE]``."""
    return block == DONE or (b"[DONE]" in block and data_of(block) == b"[DONE]")


class StreamRelay:
    """Upstream SSE bytes in, the bytes for the client out, whole events at a time: usage is
    read on the way, the usage-only chunk is dropped unless the client asked for it, and
    ``[DONE]`` is noticed. ``keep`` also rebuilds the completion (for the response cache)."""

    __slots__ = ("_builder", "_framer", "_keep_usage", "done", "usage")

    def __init__(self, keep_usage: bool, keep: bool = False) -> None:
        self._framer = SSEFramer()
        self._keep_usage = keep_usage
        self._builder = CompletionBuilder() if keep else None
        self.usage: Usage | None = None
        self.done = False

    def feed(self, chunk: bytes) -> bytes:
        """The whole events ``chunk`` completed, ready to send (may be empty)."""
        return self._relay(self._framer.feed_run(chunk))

    def close(self) -> bytes:
        """Events completed by the end of the stream."""
        return self._relay(b"".join(self._framer.close()))

    def _relay(self, run: bytes) -> bytes:
        if not run:
            return b""
        if self._builder is not None:
            return self._relay_events(split_events(run))
        # Only the usage event and [DONE] need reading, and they come last: the events before
        # the first of them are passed on as they are, unsplit and unparsed.
        usage, done = run.find(b'"usage"'), run.find(b"[DONE]")
        if usage == -1 and done == -1:
            return run  # the hot path: plain chunks
        first = done if usage == -1 else usage if done == -1 else min(usage, done)
        cut = run.rfind(_EVENT_END, 0, first)  # the end of the event before the marker's
        plain = 0 if cut == -1 else cut + 2
        return run[:plain] + self._relay_events(split_events(run[plain:]))

    def _relay_events(self, blocks: list[bytes]) -> bytes:
        builder = self._builder
        out: list[bytes] = []
        for block in blocks:
            if is_done(block):
                self.done = True
                out.append(block)
                continue
            if builder is None and b'"usage"' not in block:
                out.append(block)
                continue
            data = data_of(block)
            if data is None:
                out.append(block)
                continue
            if builder is not None:
                builder.add_event(data)
            if b'"usage"' in data:
                try:
                    payload = orjson.loads(data)
                except orjson.JSONDecodeError:
                    payload = None
                self.usage = usage_of(payload) or self.usage
                if not self._keep_usage and is_usage_only(payload):
                    continue
            out.append(block)
        return b"".join(out)

    @property
    def pending(self) -> bytes:
        """Bytes of an event the upstream has not finished."""
        return self._framer.pending

    def completion(self) -> dict[str, Any] | None:
        """The rebuilt completion when ``keep`` was set and the stream finished."""
        if self._builder is None or not (self.done or not self._framer.pending):
            return None
        return self._builder.result()
