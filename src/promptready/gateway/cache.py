"""Opt-in exact-match response cache, per app: the same request body (minus ``stream``) within the
TTL is answered from memory, as JSON or replayed as SSE (``wire.completion_as_sse``), at zero
cost."""

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
