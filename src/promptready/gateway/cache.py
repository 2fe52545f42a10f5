"""Opt-in exact-match response cache, per app: the same request body (minus ``stream``) within the
TTL is answered from memory, as JSON or replayed as SSE, at zero cost."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

# Fields that change how the answer is delivered, not what it says.
_DELIVERY_FIELDS = ("stream", "stream_options")


@dataclass(frozen=True)
class CachedAnswer:
    """A finished chat completion as the upstream sent it."""

    body: bytes  # the chat.completion JSON
    expires: float


def cache_key(app: str, request: dict[str, Any]) -> str:
    """A stable key: the app and the request with keys sorted and delivery fields removed."""
    normalized = {k: v for k, v in request.items() if k not in _DELIVERY_FIELDS}
    digest = hashlib.sha256(orjson.dumps(normalized, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"{app}:{digest}"


class ResponseCache:
    """A bounded LRU of finished answers with a per-entry expiry."""

    def __init__(
        self, max_entries: int = 2048, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._max = max_entries
        self._clock = clock

    def get(self, key: str) -> bytes | None:
        """The cached body, or None when absent or expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry.body

    def put(self, key: str, body: bytes, ttl_s: int) -> None:
        """Keep ``body`` for ``ttl_s`` seconds; the least recently used go beyond the bound."""
        self._entries[key] = CachedAnswer(body, self._clock() + ttl_s)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


def completion_as_sse(body: bytes, include_usage: bool) -> bytes:
    """Replay a cached chat.completion as the SSE stream the client asked for."""
    completion = orjson.loads(body)
    base = {
        "id": completion.get("id", "chatcmpl-cache"),
        "object": "chat.completion.chunk",
        "created": completion.get("created", int(time.time())),
        "model": completion.get("model"),
    }
    out = []
    for choice in completion.get("choices", []):
        message = choice.get("message") or {}
        delta = {k: v for k, v in message.items() if v is not None}
        first = {"index": choice.get("index", 0), "delta": delta, "finish_reason": None}
        last = {
            "index": choice.get("index", 0),
            "delta": {},
            "finish_reason": choice.get("finish_reason"),
        }
        out.append({**base, "choices": [first]})
        out.append({**base, "choices": [last]})
    if include_usage and completion.get("usage") is not None:
        out.append({**base, "choices": [], "usage": completion["usage"]})
    return b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in out) + b"data: [DONE]\n\n"


def completion_from_sse(events: bytes) -> bytes | None:
    """The chat.completion a finished chat stream amounts to, for the cache; None for streams it
    cannot rebuild exactly (tool or function calls, an error event, no chunk at all)."""
    choices: dict[int, dict[str, Any]] = {}
    base: dict[str, Any] = {}
    usage: Any = None
    for line in events.split(b"\n"):
        if not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        try:
            chunk = orjson.loads(line[6:])
        except orjson.JSONDecodeError:
            return None
        if not isinstance(chunk, dict) or "error" in chunk:
            return None
        base = base or {k: chunk.get(k) for k in ("id", "created", "model")}
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("tool_calls") or delta.get("function_call"):
                return None
            built = choices.setdefault(
                choice.get("index", 0), {"role": "assistant", "content": "", "finish": None}
            )
            built["role"] = delta.get("role") or built["role"]
            built["content"] += delta.get("content") or ""
            built["finish"] = choice.get("finish_reason") or built["finish"]
    if not choices:
        return None
    completion = {
        **base,
        "object": "chat.completion",
        "choices": [
            {
                "index": index,
                "message": {"role": c["role"], "content": c["content"]},
                "finish_reason": c["finish"],
            }
            for index, c in sorted(choices.items())
        ],
    }
    if usage is not None:
        completion["usage"] = usage
    return orjson.dumps(completion)
