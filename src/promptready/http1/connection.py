"""One HTTP/1.1 connection: an ``asyncio.Protocol`` that writes a request and parses its answer
with httptools (llhttp), one exchange at a time.

A read costs a buffer append and a clock read: the idle and total deadlines share one timer per
exchange, which re-arms itself from the last read's time when it fires instead of being
replaced on every chunk (a ``TimerHandle`` per read is what aiohttp pays).
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from collections.abc import Callable
from typing import cast

import httptools

from promptready.http1.errors import (
    HTTPError,
    HTTPTimeoutError,
    MalformedResponseError,
    RemoteClosedError,
)

MAX_HEAD_BYTES = 64 * 1024  # status line and headers; llhttp itself sets no bound
HIGH_WATER = 64 * 1024  # unread body bytes at which reading pauses (the server then waits)
LOW_WATER = HIGH_WATER // 4
_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"content-encoding"})


class _StopAfterHeadError(Exception):
    """Raised from ``on_headers_complete`` to stop the parser after the head of a HEAD or
    CONNECT answer (llhttp cannot be told that such an answer has no body)."""


def _decoder(encoding: bytes) -> zlib._Decompress | None:
    encoding = encoding.strip().lower()
    if encoding in (b"gzip", b"x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == b"deflate":
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib-wrapped, as RFC 9110 says
    return None


class Connection(asyncio.Protocol):
    """A socket to one origin (or proxy) and the state of the exchange running on it."""

    def __init__(self, label: str, on_lost: Callable[[Connection], None]) -> None:
        self.label = label  # "https://host:port": all an error message may say about it
        self.alive = True
        self.raced = False  # lost before any byte of the answer: the server never answered
        self.counted = False  # holds one of its pool's slots
        self._on_lost = on_lost
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        self._idle_s = 0.0
        self._last = 0.0
        self._paused = False
        self._head_waiter: asyncio.Future[None] | None = None
        self._body_waiter: asyncio.Future[None] | None = None
        self._chunks: deque[bytes] = deque()
        self._reset()

    def _reset(self) -> None:
        self._active = False
        self._head_only = False
        self._interim = False
        self._head_done = False
        self._head_bytes = 0
        self._header_bytes = 0
        self._got_bytes = False
        self._framed = False
        self._decode: zlib._Decompress | None = None
        self._complete = False
        self._keep_alive = False
        self._failure: HTTPError | None = None
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self._buffered = 0

    # -- the exchange, as the client and the response drive it

    def send(self, request: bytes, deadline: float, idle_s: float, head_only: bool) -> None:
        """Start an exchange: write ``request`` and arm its deadlines (loop time)."""
        self._reset()
        self._active = True
        self._head_only = head_only
        self.raced = False
        if self._transport is None or not self.alive or self._transport.is_closing():
            self.raced = True
            self._failure = RemoteClosedError(f"{self.label} had closed the connection.")
            return
        self._transport.write(request)
        self._deadline, self._idle_s = deadline, idle_s
        self._last = self._loop.time()
        self._timer = self._loop.call_at(min(deadline, self._last + idle_s), self._on_timer)

    async def head(self) -> HTTPError | None:
        """Wait for the answer's status and headers; the failure instead, if there was one."""
        if not self._head_done and self._failure is None:
            waiter = self._head_waiter = self._loop.create_future()
            try:
                await waiter
            except asyncio.CancelledError:
                self.abort()
                raise
        return self._failure

    async def read_chunk(self) -> bytes:
        """The body bytes that arrived since the last read, at least one byte; b"" at its end.

        Pieces that came together (HTTP chunks of one read from the socket) go out as one:
        a relay then writes a stream's burst of SSE events with one send, not one per event."""
        while True:
            if self._chunks:
                chunks = self._chunks
                chunk = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                self._buffered -= len(chunk)
                if self._paused and self._buffered <= LOW_WATER:
                    self._resume()
                return chunk
            if self._complete:
                return b""
            if self._failure is not None:
                raise self._failure
            waiter = self._body_waiter = self._loop.create_future()
            try:
                await waiter
            except asyncio.CancelledError:
                self.abort()
                raise

    async def read_all(self) -> bytes:
        """The rest of the body, whole."""
        if self._complete:
            body = b"".join(self._chunks)
            self._chunks.clear()
            self._buffered = 0
            return body
        parts = []
        while chunk := await self.read_chunk():
            parts.append(chunk)
        return b"".join(parts)

    def finish(self) -> bool:
        """End the exchange; True when the connection can carry another one."""
        reusable = (
            self._complete
            and self._keep_alive
            and not self._chunks
            and self.alive
            and self._failure is None
        )
        self._cancel_timer()
        self._reset()
        if not reusable:
            self.abort()
        return reusable

    def untunnel(self) -> None:
        """After a proxy's CONNECT answer: what follows is the origin's (TLS) stream."""
        self._cancel_timer()
        self._reset()
        self._parser = httptools.HttpResponseParser(self)

    def upgraded(self, transport: asyncio.Transport) -> None:
        """The TLS transport ``loop.start_tls`` put over this connection's socket."""
        self._transport = transport

    def abort(self) -> None:
        """Drop the connection now (the server sees the disconnect) and free its pool slot."""
        self._keep_alive = False
        self._cancel_timer()
        if self._transport is not None:
            self._transport.abort()
        self._on_lost(self)

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if not self._active or self._complete:
            self._fail(MalformedResponseError(f"{self.label} sent bytes nobody asked for."))
            return
        self._got_bytes = True
        self._last = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            if self._failure is None and not (self._head_only and self._head_done):
                self._fail(MalformedResponseError(f"{self.label} sent an undecodable body."))
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._fail(MalformedResponseError(f"{self.label} sent an answer that is not HTTP/1.1."))
        if not self._head_done:  # a head that never ends (on_header counts one that does)
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._fail(self._oversized())

    def eof_received(self) -> bool | None:
        return None  # close our side too; connection_lost settles the exchange

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        self._cancel_timer()
        if self._active and not self._complete and self._failure is None:
            if self._head_done and not self._framed and exc is None and not self._keep_alive:
                self._message_done()  # a body delimited by the end of the connection
            else:
                self.raced = not self._got_bytes
                where = "mid-answer" if self._got_bytes else "before answering"
                self._failure = RemoteClosedError(f"{self.label} closed the connection {where}.")
        self._wake()
        self._on_lost(self)

    def pause_writing(self) -> None:
        pass  # requests are written whole; the kernel buffers them

    def resume_writing(self) -> None:
        pass

    # -- httptools callbacks

    def on_message_begin(self) -> None:
        self.headers = []

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        self.headers.append((name, value))
        self._header_bytes += len(name) + len(value)
        if name in _FRAMING:
            if name == b"content-encoding":
                self._decode = _decoder(value)
            else:
                self._framed = True

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:
            self._interim = True  # 100 Continue, 103 Early Hints: the real answer follows
            return
        if self._header_bytes > MAX_HEAD_BYTES:
            self._fail(self._oversized())
            raise _StopAfterHeadError
        self.status = status
        self._head_done = True
        self._keep_alive = self._parser.should_keep_alive()
        self._wake()
        if self._head_only:
            self._complete = True
            self._keep_alive = False  # the body llhttp would wait for never comes: not reused
            self._cancel_timer()
            raise _StopAfterHeadError

    def on_body(self, body: bytes) -> None:
        if self._decode is not None:
            body = self._decode.decompress(body)
            if not body:
                return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
        waiter = self._body_waiter
        if waiter is not None:
            self._body_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            self._head_bytes = 0
            return
        self._message_done()

    # -- internals

    def _message_done(self) -> None:
        if self._decode is not None:
            tail = self._decode.flush()
            if tail:
                self._chunks.append(tail)
                self._buffered += len(tail)
        self._complete = True
        self._cancel_timer()
        self._wake()

    def _resume(self) -> None:
        self._paused = False
        self._last = self._loop.time()  # the server was waiting on us, not idle
        if self._transport is not None:
            self._transport.resume_reading()

    def _on_timer(self) -> None:
        self._timer = None
        if not self._active or self._complete:
            return
        now = self._loop.time()
        if now >= self._deadline:
            self._fail(HTTPTimeoutError(f"{self.label} did not finish its answer in time."))
            return
        if self._paused:
            self._last = now
        due = self._last + self._idle_s
        if due <= now:
            self._fail(HTTPTimeoutError(f"{self.label} sent nothing for {self._idle_s:g} s."))
            return
        self._timer = self._loop.call_at(min(self._deadline, due), self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _oversized(self) -> MalformedResponseError:
        return MalformedResponseError(f"{self.label} sent headers over 64 KiB.")

    def _fail(self, failure: HTTPError) -> None:
        if self._failure is None and not self._complete:
            self._failure = failure
        self.abort()
        self._wake()

    def _wake(self) -> None:
        for waiter in (self._head_waiter, self._body_waiter):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        self._head_waiter = self._body_waiter = None
