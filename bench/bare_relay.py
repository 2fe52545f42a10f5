"""A bare relay on the gateway's own stack, as a same-run floor for ``gateway_bench.py``: raw
ASGI on uvicorn (httptools, uvloop, no access log), one shared ``http1.Client``, the body
forwarded as it came and the answer's bytes passed back as they arrive. No auth, routing,
metering, ledger, limits or SSE framing: what is left between it and ``direct`` is what the
HTTP server and client cost; what is left between it and the gateway is ours.

Run: ``python bench/bare_relay.py --upstream http://127.0.0.1:9100/v1 --port 9200``
(prints ``listening on http://127.0.0.1:PORT`` once it serves).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

from promptready.http1 import Client

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
_HOP = frozenset({b"content-length", b"transfer-encoding", b"connection", b"date", b"server"})


class BareRelay:
    """POST bodies forwarded to ``upstream`` + the request's path below ``/v1``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.client: Client | None = None

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            if self.client is not None:
                await self.client.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if self.client is None:
            self.client = Client(pool_size=100, proxies_from_env=False)
        url = self.upstream + scope["path"].removeprefix("/v1")
        headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-bare"}
        response = await self.client.request("POST", url, headers, body)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status,
                    "headers": [(k, v) for k, v in response.headers if k not in _HOP],
                }
            )
            async for chunk in response:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except BaseException:
            response.close()
            raise
        response.release()
        await send({"type": "http.response.body", "body": b""})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", required=True, help="base URL ending in /v1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            print(f"listening on http://127.0.0.1:{args.port}", flush=True)

    config = uvicorn.Config(
        BareRelay(args.upstream),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        server_header=False,
    )
    Server(config).run()


if __name__ == "__main__":
    main()
