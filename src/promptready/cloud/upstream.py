"""The one HTTP client to the model providers: a shared ``http1.Client`` per process.

Each cohort's OpenAI-compatible upstream is reached through ``Upstream``; redirects are never
followed (a redirect could carry the master key elsewhere), every wait is bounded, and failures
become ``UpstreamError`` so callers release or settle their hold. This is the only cloud module
that reads SSE, with ``promptready.providers.wire`` (the one home of the OpenAI wire format).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from promptready import __version__, http1
from promptready.providers.wire import SSEFramer, Usage, data_fields, usage_of, with_usage_requested

USER_AGENT = f"PromptReady-Cloud/{__version__}"
_MAX_ERROR_BODY = 64 * 1024


@dataclass(frozen=True)
class Target:
    """Where one cohort's requests go, and with which master key."""

    base_url: str
    api_key: str

    @property
    def chat_url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"


@dataclass(frozen=True)
class Completion:
    """A whole (non-streamed) chat completion."""

    payload: dict[str, Any]
    usage: Usage | None
    latency_s: float


@dataclass(frozen=True)
class Chunk:
    """One streamed chunk: its raw JSON text (forwarded as is) and the parsed object."""

    data: bytes
    parsed: dict[str, Any]

    @property
    def usage(self) -> Usage | None:
        return chat_usage(self.parsed)


def chat_usage(payload: dict[str, Any]) -> Usage | None:
    """``wire.usage_of`` of a chat answer or chunk, which must count its completion: read as 0,
    as an embeddings answer's missing count is, it would charge the answer's text nothing, so
    such a usage is none and the answer is charged by the fallback."""
    usage = payload.get("usage")
    if isinstance(usage, dict) and "completion_tokens" not in usage:
        return None
    return usage_of(payload)


class UpstreamError(Exception):
    """The upstream failed; ``status`` is its HTTP status, None for a network failure."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def client_fault(self) -> bool:
        """The upstream refused the request itself (4xx other than auth or rate limits)."""
        return self.status is not None and 400 <= self.status < 500 and self.status not in _OURS


_OURS = {401, 403, 404, 407, 408, 429}  # our key, our model name or our capacity, not the client


class Upstream:
    """Owns one ``http1.Client`` per event loop that uses it; ``close()`` at shutdown.

    No proxies from the environment: a server reaches its configured upstreams directly."""

    def __init__(self, idle_timeout_s: float = 60.0, total_timeout_s: float = 600.0) -> None:
        self._clients = http1.LoopClient(
            lambda: http1.Client(
                10.0, idle_timeout_s, total_timeout_s, 256, USER_AGENT, proxies_from_env=False
            )
        )

    async def close(self) -> None:
        """Close the pooled connections."""
        await self._clients.close()

    @asynccontextmanager
    async def _post(self, target: Target, body: dict[str, Any]) -> AsyncIterator[http1.Response]:
        """The upstream's 200 response to ``body``; a refusal, or a network failure while the
        block reads it, becomes UpstreamError. Leaving the block early drops the connection
        (the provider sees the client leave and stops generating)."""
        failure: UpstreamError | None = None
        try:
            response = await self._clients.get().request(
                "POST", target.chat_url, _headers(target), orjson.dumps(body)
            )
        except http1.HTTPError as exc:
            failure = _network(exc)
        if failure is not None:
            raise failure
        try:
            if response.status != 200:
                raise await _refusal(response)
            yield response
        except http1.HTTPError as exc:
            failure = _network(exc)
        except BaseException:
            response.close()
            raise
        finally:
            response.release()  # the body read to its end: back to the pool; else dropped
        if failure is not None:
            raise failure

    async def complete(self, target: Target, body: dict[str, Any]) -> Completion:
        """POST a non-streamed chat completion; UpstreamError unless it answered 200 with JSON."""
        started = time.perf_counter()
        async with self._post(target, body) as response:
            raw = await response.read()
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise UpstreamError("The model provider sent an answer that is not JSON.") from None
        if not isinstance(payload, dict):
            raise UpstreamError("The model provider sent an answer that is not a completion.")
        return Completion(payload, chat_usage(payload), time.perf_counter() - started)

    async def stream(self, target: Target, body: dict[str, Any]) -> AsyncIterator[Chunk]:
        """POST a streamed chat completion and yield its chunks until ``[DONE]``; the upstream
        is always asked for the usage chunk, which is what the stream is charged by.

        Raises UpstreamError before the first chunk (refusal, network) or mid-way (a cut
        stream, a chunk that is not JSON)."""
        body = with_usage_requested(body)  # a copy: the caller's body is left as it was
        body["stream"] = True
        async with self._post(target, body) as response:
            framer = SSEFramer()
            async for piece in response:
                for data in data_fields(framer.feed(piece)):
                    if data == b"[DONE]":
                        return
                    yield _chunk(data)
            if b"[DONE]" in data_fields(framer.close()):  # its line ended by a lone CR
                return
        raise UpstreamError("The model provider ended the stream before it was complete.")


def _headers(target: Target) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if target.api_key:  # a local upstream may need no key
        headers["Authorization"] = f"Bearer {target.api_key}"
    return headers


def _chunk(data: bytes) -> Chunk:
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamError("The model provider sent a stream chunk that is not JSON.") from None
    if not isinstance(parsed, dict):
        raise UpstreamError("The model provider sent a stream chunk that is not an object.")
    return Chunk(data, parsed)


async def _refusal(response: http1.Response) -> UpstreamError:
    """An error for a non-200 answer, with the provider's own message when it gave one."""
    message = f"The model provider answered HTTP {response.status}."
    if 300 <= response.status < 400:
        return UpstreamError(message + " Redirects are not followed.", response.status)
    try:
        detail = orjson.loads(await response.read(_MAX_ERROR_BODY))
        text = detail["error"]["message"]
        if isinstance(text, str) and text:
            message = f"The model provider refused the request: {text[:300]}"
    except (orjson.JSONDecodeError, KeyError, TypeError, http1.HTTPError):
        pass
    return UpstreamError(message, response.status)


def _network(exc: BaseException) -> UpstreamError:
    if isinstance(exc, http1.HTTPTimeoutError | TimeoutError):
        return UpstreamError("The model provider did not answer in time.")
    return UpstreamError("The model provider could not be reached or cut the connection.")
