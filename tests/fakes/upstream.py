"""A fake OpenAI-compatible upstream on a real loopback socket, with scriptable faults.

Tests queue ``Script`` steps (429 with Retry-After, 500, hang, malformed JSON, a stream cut off
mid-way, no usage chunk); each request takes the next step, or answers normally when none is left.
Every request is recorded so tests can check what reached the upstream (and with which key).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PROMPT_TOKENS = 9


@dataclass(frozen=True)
class Script:
    """What the upstream does for one request instead of answering normally."""

    status: int = 200
    retry_after: str | None = None  # Retry-After header on an error status
    hang_s: float = 0.0  # sleep before answering (a timeout test); stop if the client leaves
    malformed: bool = False  # 200 with a body that is not JSON
    cut_after_chunks: int | None = None  # stream: drop the connection after N content chunks
    no_usage: bool = False  # stream: never send the usage chunk
    content: str | None = None  # the assistant's reply (default: words echoing the request)
    crlf: bool = False  # stream: end SSE lines with CRLF (the SSE spec allows it)
    redirect_to: str | None = None  # answer 307 with this Location (a client must not follow)
    chunk_delay_s: float = 0.0  # stream: pause before each content chunk
    usage: dict[str, Any] | None = None  # chat: merged into its usage (cost, details; None drops)


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeUpstream:
    """The ASGI app plus its script queue and request log."""

    models: tuple[str, ...] = ("gpt-4o-mini", "fake-gpt")
    valid_keys: frozenset[str] | None = None  # None accepts any bearer token
    scripts: deque[Script] = field(default_factory=deque)
    seen: list[SeenRequest] = field(default_factory=list)
    base_url: str = ""
    streams_cut: int = 0  # chat streams whose client left before the end (like /stats)
    hangs_cut: int = 0  # requests whose client left while the upstream hung (``hang_s``)
    default: Script = field(default_factory=Script)  # answers when nothing is queued

    def script(self, *steps: Script) -> None:
        """Queue steps for the next requests, in order."""
        self.scripts.extend(steps)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        self.seen.append(SeenRequest(scope["method"], scope["path"], headers, parsed))
        step = self.scripts.popleft() if self.scripts else self.default

        if self.valid_keys is not None:
            token = headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self.valid_keys:
                await _send_json(
                    send, 401, _error("Incorrect API key provided.", "invalid_api_key")
                )
                return
        if step.hang_s and await _client_leaves_within(receive, step.hang_s):
            self.hangs_cut += 1
            return
        if step.redirect_to is not None:
            extra = [(b"location", step.redirect_to.encode())]
            await _send_raw(send, 307, b"", b"text/plain", extra)
            return
        if step.status != 200:
            extra = [(b"retry-after", step.retry_after.encode())] if step.retry_after else []
            await _send_json(send, step.status, _error(f"fake {step.status}", "fake"), extra)
            return
        if step.malformed:
            await _send_raw(send, 200, b"{not json", b"application/json")
            return
        if scope["path"].endswith("/models"):
            data = [{"id": m, "object": "model", "owned_by": "fake"} for m in self.models]
            await _send_json(send, 200, {"object": "list", "data": data})
        elif scope["path"].endswith("/chat/completions") and isinstance(parsed, dict):
            # Once the body is read, receive() returns only when the client goes away.
            watcher = asyncio.ensure_future(receive())
            try:
                if not await _chat(parsed, step, send, watcher.done):
                    self.streams_cut += 1
            finally:
                watcher.cancel()
        elif scope["path"].endswith("/embeddings") and isinstance(parsed, dict):
            await _send_json(send, 200, _embeddings(parsed))
        elif scope["path"].endswith("/responses") and isinstance(parsed, dict):
            await _responses(parsed, step, send)
        else:
            await _send_json(send, 404, _error("not found", "not_found"))


async def _client_leaves_within(receive: Receive, seconds: float) -> bool:
    """Wait ``seconds``; True as soon as the client hangs up (once the body is read, receive()
    returns only then)."""
    watcher = asyncio.ensure_future(receive())
    done, _ = await asyncio.wait({watcher}, timeout=seconds)
    watcher.cancel()
    return bool(done) and watcher.result().get("type") == "http.disconnect"


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "fake_error", "param": None, "code": code}}


async def _send_raw(
    send: Send,
    status: int,
    body: bytes,
    ctype: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", ctype),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_json(
    send: Send, status: int, payload: Any, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    await _send_raw(send, status, json.dumps(payload).encode(), b"application/json", extra)


def _reply_words(request: dict[str, Any], step: Script) -> list[str]:
    if step.content is not None:
        return step.content.split(" ")
    return ["Rewritten", "prompt", "for", str(request.get("model", "?"))]


def _embeddings(request: dict[str, Any]) -> dict[str, Any]:
    data = [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5, 1.0]}]
    usage = {"prompt_tokens": 5, "total_tokens": 5}
    return {"object": "list", "data": data, "model": request.get("model"), "usage": usage}


async def _responses(request: dict[str, Any], step: Script, send: Send) -> None:
    """The Responses API: one response object, or typed ``event:`` SSE with no [DONE]."""
    words = _reply_words(request, step)
    usage = {
        "input_tokens": PROMPT_TOKENS,
        "output_tokens": len(words),
        "total_tokens": PROMPT_TOKENS + len(words),
    }
    text = " ".join(words)
    content = [{"type": "output_text", "text": text, "annotations": []}]
    output = [
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": content,
        }
    ]
    response = {
        "id": "resp_fake",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": request.get("model"),
        "output": output,
        "usage": usage,
    }
    if not request.get("stream"):
        await _send_json(send, 200, response)
        return
    headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})

    async def emit(kind: str, payload: dict[str, Any], more: bool = True) -> None:
        data = json.dumps({"type": kind, **payload}).encode()
        body = b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"
        await send({"type": "http.response.body", "body": body, "more_body": more})

    await emit(
        "response.created",
        {"response": {**response, "status": "in_progress", "output": [], "usage": None}},
    )
    for i, word in enumerate(words):
        if step.cut_after_chunks is not None and i >= step.cut_after_chunks:
            raise ConnectionResetError("fake upstream cut the stream")
        await emit(
            "response.output_text.delta",
            {
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": 0,
                "delta": word if i == 0 else " " + word,
            },
        )
    await emit("response.completed", {"response": response}, more=False)


async def _chat(
    request: dict[str, Any], step: Script, send: Send, client_left: Callable[[], bool]
) -> bool:
    """Answer a chat request; False when the client left a stream before its end."""
    words = _reply_words(request, step)
    reported = {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": len(words),
        "total_tokens": PROMPT_TOKENS + len(words),
        **(step.usage or {}),
    }
    usage = {name: value for name, value in reported.items() if value is not None}
    base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": request.get("model")}
    if not request.get("stream"):
        message = {"role": "assistant", "content": " ".join(words)}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        await _send_json(
            send, 200, {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
        )
        return True

    end = b"\r\n" if step.crlf else b"\n"

    def event(payload: dict[str, Any]) -> dict[str, Any]:
        data = (
            b"data: " + json.dumps({**base, "object": "chat.completion.chunk", **payload}).encode()
        )
        return {"type": "http.response.body", "body": data + end + end, "more_body": True}

    headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send(
        event({"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]})
    )
    for i, word in enumerate(words):
        if step.cut_after_chunks is not None and i >= step.cut_after_chunks:
            raise ConnectionResetError("fake upstream cut the stream")  # uvicorn drops the socket
        piece = word if i == 0 else " " + word
        if step.chunk_delay_s:
            await asyncio.sleep(step.chunk_delay_s)
        if client_left():
            return False
        await send(
            event({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        )
    await send(event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    if (request.get("stream_options") or {}).get("include_usage") and not step.no_usage:
        await send(event({"choices": [], "usage": usage}))
    done = b"data: [DONE]" + end + end
    await send({"type": "http.response.body", "body": done, "more_body": False})
    return True


START_TIMEOUT_S = 60


@contextmanager
def serve(
    app: Callable[[Scope, Receive, Send], Awaitable[None]],
    lifespan: Literal["on", "off"] = "off",
) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free 127.0.0.1 port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="critical", access_log=False, lifespan=lifespan, timeout_graceful_shutdown=0
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    # Generous: on a loaded CI machine running parallel workers a lifespan start (a store
    # opening its database) took over 10 s; a start that fails ends the thread at once.
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the server on port {port} stopped before it started")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server on port {port} did not start in {START_TIMEOUT_S} s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
