"""One OpenAI-compatible upstream: chat completions (JSON and SSE) and the model list.

Every aiohttp failure becomes an UpstreamError built outside the ``except`` block, so neither the
message nor ``__context__`` can carry the request's Authorization header.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from promptready.providers.errors import (
    UpstreamError,
    UpstreamHTTPError,
    UpstreamProtocolError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from promptready.providers.http import HttpClient
from promptready.providers.presets import ProviderConfig
from promptready.providers.sse import SSEParser
from promptready.secrets import ApiKey


@dataclass(frozen=True)
class Usage:
    """Token counts as the upstream reported them (or as we estimated when it did not)."""

    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ChatResult:
    """A finished chat completion."""

    content: str
    model: str
    usage: Usage | None
    latency_ms: float
    ttft_ms: float  # for a JSON answer: time to the response headers


@dataclass
class RawResponse:
    """An upstream answer passed through untouched: status, headers, and the body as it arrives."""

    status: int
    headers: list[tuple[bytes, bytes]]
    chunks: AsyncIterator[bytes]


# Headers that describe one hop of the connection, never forwarded (RFC 9110 7.6.1), plus
# content-length / -encoding, which the gateway's own server sets for the body it sends.
HOP_HEADERS = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"content-encoding",
        b"set-cookie",
        b"server",
        b"date",
    }
)


@dataclass(frozen=True)
class StreamDelta:
    """A piece of the assistant's text as it arrives."""

    text: str


@dataclass(frozen=True)
class StreamEnd:
    """The stream finished; usage when the upstream sent it."""

    model: str
    usage: Usage | None


StreamEvent = StreamDelta | StreamEnd


def _usage(raw: object) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return Usage(prompt, completion)


def _error_message(body: bytes) -> tuple[str, str | None]:
    """The message and code of an OpenAI-shaped error body, or a short excerpt of anything else."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        code = error.get("code")
        return str(error.get("message") or "no message"), str(code) if code is not None else None
    excerpt = body[:200].decode("utf-8", "replace").strip()
    return excerpt or "no message", None


class OpenAICompatProvider:
    """Calls one provider's OpenAI-compatible API with its own key (and only its own key)."""

    def __init__(self, config: ProviderConfig, key: ApiKey | None, http: HttpClient) -> None:
        self.config = config
        self.name = config.name
        self._key = key
        self._http = http

    def __repr__(self) -> str:
        return f"OpenAICompatProvider({self.name!r}, {self.config.base_url!r}, key={self._key!r})"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key is not None:
            headers["Authorization"] = f"Bearer {self._key.reveal()}"
        return headers

    def _translate(self, exc: BaseException) -> UpstreamError:
        import aiohttp

        name = self.name
        if isinstance(exc, UpstreamError):
            return exc
        if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
            return UpstreamTimeoutError(f"{name} did not answer in time; try again.", name)
        if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ClientOSError):
            return UpstreamUnreachableError(
                f"Could not reach {name} at {self.config.base_url}; check your network.", name
            )
        if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
            return UpstreamProtocolError(f"{name} closed the connection mid-answer.", name)
        return UpstreamProtocolError(
            f"{name} sent an unusable answer ({type(exc).__name__}).", name
        )

    async def _raise_for_status(self, response: Any) -> None:
        if response.status < 400:
            return
        body = await response.read()
        message, code = _error_message(body)
        raise UpstreamHTTPError(
            self.name,
            response.status,
            message,
            code=code,
            retry_after=response.headers.get("Retry-After"),
            body=body,
        )

    async def _fetch(self, method: str, path: str, body: Any = None) -> tuple[bytes, float]:
        """Send one request; the body of a 2xx answer and the seconds until its headers came."""
        started = time.perf_counter()
        failure: UpstreamError | None = None
        try:
            session = await self._http.session()
            url = f"{self.config.base_url}{path}"
            proxy = self._http.proxy_for(url)
            async with session.request(
                method, url, json=body, headers=self._headers(), proxy=proxy
            ) as r:
                headers_at = time.perf_counter()
                await self._raise_for_status(r)
                return await r.read(), headers_at - started
        except Exception as exc:
            failure = self._translate(exc)
        raise failure

    async def chat(self, body: dict[str, Any]) -> ChatResult:
        """POST a non-streaming chat completion and return its text and usage."""
        started = time.perf_counter()
        raw, ttft_s = await self._fetch("POST", "/chat/completions", {**body, "stream": False})
        try:
            payload = json.loads(raw)
            content = payload["choices"][0]["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise UpstreamProtocolError(
                f"{self.name} sent a reply that is not a chat completion.", self.name
            ) from None
        return ChatResult(
            content=str(content),
            model=str(payload.get("model") or body.get("model") or ""),
            usage=_usage(payload.get("usage")),
            latency_ms=(time.perf_counter() - started) * 1000,
            ttft_ms=ttft_s * 1000,
        )

    async def stream_chat(self, body: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        """POST a streaming chat completion; yields text deltas, then one StreamEnd."""
        request = {**body, "stream": True}
        if self.config.stream_usage:
            request["stream_options"] = {
                **(body.get("stream_options") or {}),
                "include_usage": True,
            }
        model = str(body.get("model") or "")
        usage: Usage | None = None
        failure: UpstreamError | None = None
        finished = False
        try:
            session = await self._http.session()
            url = f"{self.config.base_url}/chat/completions"
            proxy = self._http.proxy_for(url)
            async with session.post(
                url, json=request, headers=self._headers(), proxy=proxy
            ) as response:
                await self._raise_for_status(response)
                parser = SSEParser()
                async for chunk in response.content.iter_any():
                    for event in parser.feed(chunk):
                        if event.data == "[DONE]":
                            finished = True
                            break
                        try:
                            payload = json.loads(event.data)
                        except ValueError:
                            raise UpstreamProtocolError(
                                f"{self.name} sent a stream event that is not JSON.", self.name
                            ) from None
                        model = str(payload.get("model") or model)
                        usage = _usage(payload.get("usage")) or usage
                        for choice in payload.get("choices") or ():
                            text = (choice.get("delta") or {}).get("content")
                            if text:
                                yield StreamDelta(str(text))
                    if finished:
                        break
        except Exception as exc:
            failure = self._translate(exc)
        if failure is not None:
            raise failure
        if not finished:
            raise UpstreamProtocolError(
                f"{self.name} ended the stream before it was complete.", self.name
            )
        yield StreamEnd(model=model, usage=usage)

    async def list_models(self) -> list[str]:
        """Model ids the key may use (a cheap call, also used to validate keys)."""
        raw, _ = await self._fetch("GET", "/models")
        try:
            return sorted(str(m["id"]) for m in json.loads(raw)["data"])
        except (ValueError, KeyError, TypeError):
            raise UpstreamProtocolError(
                f"{self.name} sent a model list that is not valid.", self.name
            ) from None

    @asynccontextmanager
    async def forward(self, path: str, body: bytes) -> AsyncIterator[RawResponse]:
        """POST ``body`` as-is to ``path`` (e.g. ``/chat/completions``) for the gateway.

        Errors statuses are passed through too: the caller decides what the client sees.
        """
        failure: UpstreamError | None = None
        url = f"{self.config.base_url}{path}"
        try:
            session = await self._http.session()
            response = await session.post(
                url, data=body, headers=self._headers(), proxy=self._http.proxy_for(url)
            )
        except Exception as exc:
            failure = self._translate(exc)
        if failure is not None:
            raise failure
        try:
            headers = [
                (k.lower(), v) for k, v in response.raw_headers if k.lower() not in HOP_HEADERS
            ]
            yield RawResponse(response.status, headers, self._chunks(response))
        finally:
            response.release()

    async def _chunks(self, response: Any) -> AsyncIterator[bytes]:
        failure: UpstreamError | None = None
        try:
            async for chunk in response.content.iter_any():
                yield chunk
        except Exception as exc:
            failure = self._translate(exc)
        if failure is not None:
            raise failure
