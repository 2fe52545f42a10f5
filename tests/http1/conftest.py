"""Loopback servers that say exactly the bytes a test scripts, and a client to point at them."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
import uvloop

from promptready.http1 import Client

ServedHandler = Callable[["Served", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Served:
    """A scripted server: its port, and what it saw."""

    port: int = 0
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)  # each request's head and body
    disconnects: int = 0  # connections the client closed while the handler still waited

    def url(self, path: str = "/", scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request's head and body (by Content-Length); b"" if the client closed first."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b""
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + await reader.readexactly(length)


@asynccontextmanager
async def serve(
    handler: ServedHandler,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[Served]:
    """Run ``handler`` for each connection to a fresh loopback port until the block ends."""
    served = Served()
    tasks: set[asyncio.Task[None]] = set()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.connections += 1
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(served, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            pass  # the block ended: asyncio.streams would log a cancelled handler as an error
        finally:
            tasks.discard(task)
            writer.transport.abort()

    server = await asyncio.start_server(connected, "127.0.0.1", 0, ssl=tls)
    served.port = server.sockets[0].getsockname()[1]
    try:
        yield served
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def answer(body: bytes = b"ok", *extra: bytes, status: bytes = b"200 OK") -> bytes:
    """A Content-Length response with ``extra`` header lines."""
    lines = [b"HTTP/1.1 " + status, b"Content-Length: %d" % len(body), *extra]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def replying(
    *responses: bytes,
) -> Callable[[Served, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """A handler that answers each request on a connection with the next of ``responses``
    (the last one repeats), then keeps the connection open."""

    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        index = 0
        while request := await read_request(reader):
            served.requests.append(request)
            writer.write(responses[min(index, len(responses) - 1)])
            await writer.drain()
            index += 1

    return handler


def then_waiting(reply: bytes = b"") -> ServedHandler:
    """A handler that sends ``reply`` (maybe none, maybe half an answer) to the first request,
    then waits for the client to go away and counts it in ``disconnects``."""

    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        served.requests.append(await read_request(reader))
        writer.write(reply)
        await reader.read()
        served.disconnects += 1

    return handler


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Every test here on both loops: the servers run the client on uvloop (whose transports
    are not asyncio's classes), the desktop and the other tests on asyncio's own."""
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    """A client with short deadlines, and no proxy from the environment."""
    made = Client(connect_s=2, idle_s=1, total_s=5, pool_size=4, proxies_from_env=False)
    yield made
    await made.close()


def open_connections(client: Client, url: str) -> int:
    """Connections to ``url``'s origin that are open, idle or not (a closed one is gone)."""
    return client.pool(client.route(url)).open


def busy(client: Client, url: str) -> int:
    """Connections to ``url``'s origin that are open and not idle in the pool (leaks show here)."""
    pool = client.pool(client.route(url))
    return pool.open - pool.idle
