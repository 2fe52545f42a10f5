"""One OpenAI-compatible upstream: chat completions (JSON and SSE), raw forwarding for the gateway
and the model list. Its credential comes from an ``Auth``: a stored key here, a device token
that refreshes itself for the hosted credit proxy; a 401 gets one refresh and one more try.
Redirects are never followed (a 3xx would re-send the prompt, and its key, somewhere else).

Every HTTP failure becomes an UpstreamError built outside the ``except`` block, so neither the
message nor ``__context__`` can carry the request's Authorization header.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from promptready.providers.errors import (
    UpstreamError,
    UpstreamHTTPError,
    UpstreamProtocolError,
    UpstreamRedirectError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from promptready.providers.http import HttpClient
from promptready.providers.presets import ProviderConfig
from promptready.providers.wire import (
    SSEFramer,
    Usage,
    data_fields,
    delta_text,
    message_text,
    usage_of,
    with_usage_requested,
)
from promptready.secrets import ApiKey

if TYPE_CHECKING:
    from promptready.http1 import Response

MAX_ERROR_BYTES = 1 << 20  # an error answer's body is kept (for the caller to read): bounded


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
    """An upstream answer passed through untouched: status, headers, and the body as it arrives
    (``chunks``) or whole (``read``; one or the other)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    chunks: AsyncIterator[bytes]
    read: Callable[[], Awaitable[bytes]]


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


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _error_message(body: bytes) -> tuple[str, str | None]:
    """The message and code of an OpenAI-shaped error body, or a short excerpt of anything else."""
    try:
        error = orjson.loads(body).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        error = None
    if isinstance(error, dict):
        code = error.get("code")
        return str(error.get("message") or "no message"), str(code) if code is not None else None
    excerpt = body[:200].decode("utf-8", "replace").strip()
    return excerpt or "no message", None


class Auth(Protocol):
    """Where a provider's credential comes from."""

    def authorization(self) -> str | None:
        """The Authorization header value, or None for a provider that needs none."""

    async def refresh(self) -> bool:
        """After a 401: get a new credential; True when one more try is worth it."""


class KeyAuth:
    """A fixed API key from the keyring (a 401 means the key is wrong: no refresh)."""

    def __init__(self, key: ApiKey | None) -> None:
        self._key = key

    def __repr__(self) -> str:
        return f"KeyAuth({self._key!r})"

    def authorization(self) -> str | None:
        return None if self._key is None else f"Bearer {self._key.reveal()}"

    async def refresh(self) -> bool:
        return False


class OpenAICompatProvider:
    """Calls one provider's OpenAI-compatible API with its own credential (and only its own)."""

    def __init__(
        self,
        config: ProviderConfig,
        key: ApiKey | None,
        http: HttpClient,
        *,
        auth: Auth | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self._auth: Auth = auth if auth is not None else KeyAuth(key)
        self._http = http

    def __repr__(self) -> str:
        return f"OpenAICompatProvider({self.name!r}, {self.config.base_url!r}, {self._auth!r})"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        authorization = self._auth.authorization()
        if authorization is not None:
            headers["Authorization"] = authorization
        return headers

    def _translate(self, exc: BaseException) -> UpstreamError:
        from promptready import http1

        name = self.name
        if isinstance(exc, UpstreamError):
            return exc
        if isinstance(exc, http1.HTTPTimeoutError | TimeoutError):
            return UpstreamTimeoutError(f"{name} did not answer in time; try again.", name)
        if isinstance(exc, http1.ConnectError):
            return UpstreamUnreachableError(
                f"Could not reach {name} at {self.config.base_url}; check your network.", name
            )
        if isinstance(exc, http1.RemoteClosedError):
            return UpstreamProtocolError(f"{name} closed the connection mid-answer.", name)
        return UpstreamProtocolError(
            f"{name} sent an unusable answer ({type(exc).__name__}).", name
        )

    async def _send(self, method: str, path: str, data: bytes | None = None) -> Response:
        """The upstream's response (headers read, body not): redirects refused, a 401 retried
        once after the credential refreshed. The caller releases it."""
        failure: UpstreamError | None = None
        try:
            client = self._http.client()
            url = f"{self.config.base_url}{path}"
            response = await client.request(method, url, self._headers(), data)
            if response.status == 401 and await self._renewed(response):
                # once: a second 401 is the caller's to see
                response = await client.request(method, url, self._headers(), data)
            if 300 <= response.status < 400:
                location = _text(response.header(b"location"))
                response.close()
                failure = UpstreamRedirectError(self.name, response.status, location or "")
            else:
                return response
        except Exception as exc:
            failure = self._translate(exc)
        raise failure

    async def _renewed(self, refused: Response) -> bool:
        """After a 401: True when the credential was renewed. The refusal is dropped then, and
        when renewing fails, so no connection stays open behind an error."""
        try:
            again = await self._auth.refresh()
        except BaseException:
            refused.close()
            raise
        if again:
            refused.close()
        return again

    async def _raise_for_status(self, response: Response) -> None:
        if response.status < 400:
            return
        body = await response.read(MAX_ERROR_BYTES)
        response.release()
        message, code = _error_message(body)
        raise UpstreamHTTPError(
            self.name,
            response.status,
            message,
            code=code,
            retry_after=_text(response.header(b"retry-after")),
            body=body,
        )

    async def _fetch(self, method: str, path: str, body: Any = None) -> tuple[bytes, float]:
        """Send one request; the body of a 2xx answer and the seconds until its headers came."""
        started = time.perf_counter()
        data = None if body is None else orjson.dumps(body)
        response = await self._send(method, path, data)
        failure: UpstreamError | None = None
        try:
            headers_at = time.perf_counter()
            await self._raise_for_status(response)
            return await response.read(), headers_at - started
        except Exception as exc:
            failure = self._translate(exc)
        finally:
            response.release()
        raise failure

    async def chat(self, body: dict[str, Any]) -> ChatResult:
        """POST a non-streaming chat completion and return its text and usage."""
        started = time.perf_counter()
        raw, ttft_s = await self._fetch("POST", "/chat/completions", {**body, "stream": False})
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError:
            payload = None
        content = message_text(payload)
        if content is None:
            raise UpstreamProtocolError(
                f"{self.name} sent a reply that is not a chat completion.", self.name
            )
        return ChatResult(
            content=content,
            model=str(payload.get("model") or body.get("model") or ""),
            usage=usage_of(payload),
            latency_ms=(time.perf_counter() - started) * 1000,
            ttft_ms=ttft_s * 1000,
        )

    async def stream_chat(self, body: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        """POST a streaming chat completion; yields text deltas, then one StreamEnd."""
        request = {**body, "stream": True}
        if self.config.stream_usage:
            request = with_usage_requested(request)
        model = str(body.get("model") or "")
        usage: Usage | None = None
        response = await self._send("POST", "/chat/completions", orjson.dumps(request))
        failure: UpstreamError | None = None
        finished = False
        try:
            await self._raise_for_status(response)
            framer = SSEFramer()
            async for chunk in response:
                for data in data_fields(framer.feed(chunk)):
                    if data == b"[DONE]":
                        finished = True
                        break
                    try:
                        payload = orjson.loads(data)
                    except orjson.JSONDecodeError:
                        raise UpstreamProtocolError(
                            f"{self.name} sent a stream event that is not JSON.", self.name
                        ) from None
                    if not isinstance(payload, dict):
                        continue
                    model = str(payload.get("model") or model)
                    usage = usage_of(payload) or usage
                    text = delta_text(payload)
                    if text:
                        yield StreamDelta(text)
                if finished:
                    break
        except Exception as exc:
            failure = self._translate(exc)
        finally:
            response.release()
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
            return sorted(str(m["id"]) for m in orjson.loads(raw)["data"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise UpstreamProtocolError(
                f"{self.name} sent a model list that is not valid.", self.name
            ) from None

    def forward(self, path: str, body: bytes) -> AbstractAsyncContextManager[RawResponse]:
        """POST ``body`` as-is to ``path`` (e.g. ``/chat/completions``) for the gateway.

        Errors statuses are passed through too: the caller decides what the client sees.
        Leaving the block early (the client went away) closes the upstream connection, so the
        upstream sees the disconnect.
        """
        return _Forward(self, path, body)

    def _chunks(self, response: Response) -> AsyncIterator[bytes]:
        return _Chunks(response.next_chunk, self._translate)

    async def _read(self, response: Response) -> bytes:
        failure: UpstreamError | None = None
        try:
            return await response.read()
        except Exception as exc:
            failure = self._translate(exc)
        raise failure


class _Chunks:
    """A response body as it arrives, read straight from the connection with its errors
    translated: one coroutine per read (an async generator would add two frames to every
    relayed SSE chunk)."""

    __slots__ = ("_read", "_translate")

    def __init__(
        self,
        read: Callable[[], Awaitable[bytes]],
        translate: Callable[[BaseException], UpstreamError],
    ) -> None:
        self._read = read
        self._translate = translate

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        failure: UpstreamError | None = None
        try:
            chunk = await self._read()
        except Exception as exc:
            failure = self._translate(exc)
        else:
            if chunk:
                return chunk
            raise StopAsyncIteration
        raise failure


class _Forward:
    """``OpenAICompatProvider.forward``'s block: a class rather than ``asynccontextmanager``,
    whose generator, wrapper and extra frames cost more than this on every relayed call."""

    __slots__ = ("_body", "_path", "_provider", "_response")

    def __init__(self, provider: OpenAICompatProvider, path: str, body: bytes) -> None:
        self._provider = provider
        self._path = path
        self._body = body
        self._response: Response | None = None

    async def __aenter__(self) -> RawResponse:
        provider = self._provider
        response = await provider._send("POST", self._path, self._body)
        self._response = response
        headers = [(k, v) for k, v in response.headers if k not in HOP_HEADERS]
        return RawResponse(
            response.status,
            headers,
            provider._chunks(response),
            partial(provider._read, response),
        )

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._response is not None
        if kind is None:
            self._response.release()  # read to the end: back to the pool
        else:
            self._response.close()  # cut (the client left): the upstream stops generating
