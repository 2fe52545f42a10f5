"""Flow control: an answer nobody reads stays on the server's side once ~64 KiB are buffered."""

from __future__ import annotations

import asyncio

from promptready.http1 import Client
from tests.http1.conftest import Served, read_request, serve

BIG = 64 << 20  # more than the kernel's socket buffers on both sides can hold


async def test_reading_pauses_while_the_body_is_not_read(client: Client) -> None:
    drained = asyncio.Event()

    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG)
        writer.write(b"x" * BIG)
        await writer.drain()
        drained.set()
        await asyncio.sleep(10)

    async with serve(handler) as s:
        response = await client.request("GET", s.url())
        await asyncio.sleep(0.5)
        assert not drained.is_set()  # the server is still waiting to send
        total = 0
        while chunk := await response.next_chunk():
            total += len(chunk)
        assert total == BIG
        assert drained.is_set()
        response.release()
