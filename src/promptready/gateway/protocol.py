"""uvicorn's httptools protocol, plus the deadlines and the connection cap it lacks.

uvicorn's own options are used where it has them: ``timeout_keep_alive`` (idle between requests)
and ``limit_concurrency`` (a 503 once every slot is busy). What it lacks is added here:

- a fresh connection that sends nothing is closed after the same idle timeout (uvicorn only arms
  it after a first response);
- a header deadline, from a request's first byte to its blank line (slowloris);
- a body deadline, from the end of the head to the last byte its Content-Length promised; a
  shorter body is answered 408 and the connection closed;
- a cap on open connections below the file-descriptor limit: when full, the connection that has
  waited longest without a complete request head is closed, so idle sockets cannot lock out a
  real request;
- origin-form targets only (``/v1/...``): an absolute-form or ``*`` target is 400;
- an answer sent before an ``Expect: 100-continue`` body arrived ends the connection (uvicorn
  would read the client's next request as that body);
- a response's head leaves with its first body bytes (``HeadWithBody``).

Protocol-level refusals are OpenAI-shaped like every other error of the gateway.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Protocol

from promptready.gateway.errors import GatewayError, bad_request
from promptready.gateway.uvicorn_core import STATUS_LINE, HttpToolsProtocol

if sys.platform != "win32":
    import resource

# File descriptors kept back from the cap for the ledger, upstream sockets and the desktop app.
FD_RESERVE = 64


def default_max_connections() -> int:
    """Half of what is left of the soft fd limit (256 on macOS by default), at most 1000."""
    if sys.platform == "win32":
        return 1000
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(16, min(1000, (soft - FD_RESERVE) // 2))


@dataclass(frozen=True)
class Limits:
    """How long a client may take, and how many may be connected at once."""

    idle_s: int = 5  # uvicorn's keep-alive timeout takes whole seconds
    head_s: float = 10.0
    body_s: float = 30.0
    max_connections: int = 0  # 0: default_max_connections()

    def connections(self) -> int:
        """The cap on open connections."""
        return self.max_connections or default_max_connections()

    def resolved(self) -> Limits:
        """These limits with the cap worked out once (not a getrlimit call per connection)."""
        return replace(self, max_connections=self.connections())


TIMED_OUT = GatewayError(
    408,
    "The request did not arrive in time; send it again in one go.",
    "request_timeout",
    retry=True,
    close=True,
)
NOT_ORIGIN_FORM = "The request target must be a path such as /v1/chat/completions, not a full URL."


class _Cycle(Protocol):
    response_started: bool


class HeadWithBody:
    """The transport as one request's cycle sees it: the response head is held until the first
    body write and both go out in one ``writelines`` (one send, so the client wakes once).

    uvicorn writes the head and each body message separately; on loopback each send costs a
    syscall plus a wake-up of the client, the largest single cost in a stream's CPU profile. A
    head with no body write in the same turn of the loop (a stream waiting for its first event)
    is flushed at the end of that turn, so nothing is delayed by more than the turn.
    """

    __slots__ = ("_cycle", "_head", "_loop", "_transport", "_waiting")

    def __init__(
        self, transport: asyncio.Transport, cycle: _Cycle, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._transport = transport
        self._cycle = cycle
        self._loop = loop
        self._head: bytes | None = None
        self._waiting = True  # for the head: the first write once the response has started

    def write(self, data: bytes) -> None:
        """Send ``data``, holding the response head back for the first body bytes."""
        head = self._head
        if head is not None:
            self._head = None
            self._transport.writelines((head, data))
        elif self._waiting and self._cycle.response_started:
            # The first write since the response started is its head (a 100 Continue comes
            # before the response starts and goes straight out).
            self._waiting = False
            self._head = data
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def flush(self) -> None:
        """Send a head still held (no body came in its turn of the loop)."""
        head = self._head
        if head is not None:
            self._head = None
            if not self._transport.is_closing():
                self._transport.write(head)

    def close(self) -> None:
        """Close after what was written, the held head included."""
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        """Whether the connection is closing or closed."""
        return self._transport.is_closing()


class GuardedProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with header and body deadlines, a connection cap and origin-form only."""

    LIMITS: ClassVar[Limits] = Limits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._busy = False  # between a complete head and its response
        self._waiting_since = self.loop.time()
        self._refusal: str | None = None
        self._keep_alive_after_body: bool | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # uvicorn's keep-alive timer, armed before the first request too; data cancels it.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )
        self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.LIMITS.head_s, self._head_expired)

    def on_headers_complete(self) -> None:
        if not self.url.startswith(b"/"):
            self._refusal = NOT_ORIGIN_FORM
            raise ValueError(NOT_ORIGIN_FORM)  # httptools stops parsing; uvicorn sends 400
        self._busy = True
        self._arm(self.LIMITS.body_s, self._body_expired)
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is None or cycle.scope is not self.scope:
            return  # no new request cycle (an upgrade)
        cycle.transport = HeadWithBody(self.transport, cycle, self.loop)  # type: ignore[assignment]
        if self.expect_100_continue:
            # The client holds its body back until 100 Continue: an answer before then must end
            # the connection, or its next request would be read as that body.
            self._keep_alive_after_body = cycle.keep_alive
            cycle.keep_alive = False

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()
        if self._keep_alive_after_body is not None and not self.cycle.response_started:
            self.cycle.keep_alive = self._keep_alive_after_body  # the body came: reuse is safe
        self._keep_alive_after_body = None

    def on_response_complete(self) -> None:
        self._busy = False
        self._waiting_since = self.loop.time()
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        refusal = self._refusal or "The request is not valid HTTP/1.1."
        self._answer_and_close(bad_request(refusal, "invalid_request"))

    def _arm(self, delay: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_expired(self) -> None:
        self._deadline = None
        self._answer_and_close(TIMED_OUT)

    def _body_expired(self) -> None:
        self._deadline = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            cycle.response_started = True  # the app's own answer, if any, goes nowhere
            self._answer_and_close(TIMED_OUT)
        else:
            self.transport.close()
        if cycle is not None:
            cycle.disconnected = True  # the app's receive() returns http.disconnect
            cycle.message_event.set()

    def _answer_and_close(self, error: GatewayError) -> None:
        if self.transport.is_closing():
            return
        body = error.body()
        head = [
            STATUS_LINE[error.status],
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n",
        ]
        head += [
            name + b": " + value + b"\r\n"
            for name, value in error.headers()
            if name != b"connection"
        ]
        self.transport.write(b"".join([*head, b"\r\n", body]))
        self.transport.close()

    def _make_room(self) -> None:
        """Over the cap, close the connection that has waited longest without a request."""
        if len(self.connections) <= self.LIMITS.connections():
            return  # the common case, without a scan
        open_ = [c for c in self.connections if not c.transport.is_closing()]
        excess = len(open_) - self.LIMITS.connections()
        if excess <= 0:
            return
        waiting = [
            c for c in open_ if isinstance(c, GuardedProtocol) and c is not self and not c._busy
        ]
        waiting.sort(key=lambda c: c._waiting_since)
        for connection in waiting[:excess]:
            connection._disarm()
            connection.transport.close()
            # Out of the count now, not when uvicorn hears of the close: the newcomer's request
            # may be parsed first, and limit_concurrency must not count the closing socket.
            self.connections.discard(connection)


def guarded_protocol(limits: Limits) -> type[GuardedProtocol]:
    """The protocol class uvicorn should build connections from, bound to ``limits``."""
    return type("BoundGuardedProtocol", (GuardedProtocol,), {"LIMITS": limits.resolved()})
