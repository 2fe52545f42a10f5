"""A fake upstream whose streams trickle: one content chunk every ``delay_s``, usage at the end.

The repo's fake upstream answers at once; a test of a client that leaves mid-stream needs a
stream still running when it leaves. ``gone`` is set when the proxy stops reading it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.upstream import Receive, Scope, Send

PROMPT_TOKENS = 9


@dataclass
class SlowUpstream:
    chunks: int = 200
    delay_s: float = 0.02
    base_url: str = ""
    gone: asyncio.Event | None = None
    streams_started: int = 0
    streams_abandoned: int = 0
    log: list[Any] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = json.loads(body)
        self.log.append(request)
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        self.streams_started += 1
        watcher = asyncio.ensure_future(_disconnect(receive))
        try:
            for i in range(self.chunks):
                if watcher.done():
                    self.streams_abandoned += 1
                    return
                delta = {"content": f" w{i}"}
                chunk = {
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": delta}],
                }
                data = b"data: " + json.dumps(chunk).encode() + b"\n\n"
                await send({"type": "http.response.body", "body": data, "more_body": True})
                await asyncio.sleep(self.delay_s)
            usage = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": self.chunks}
            tail = b"data: " + json.dumps({"choices": [], "usage": usage}).encode() + b"\n\n"
            await send({"type": "http.response.body", "body": tail + b"data: [DONE]\n\n"})
        finally:
            watcher.cancel()


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
