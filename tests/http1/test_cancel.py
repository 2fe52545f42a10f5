"""A caller that gives up (cancelled, or closing the answer) drops its connection: the server
sees the disconnect, and a half-read connection is never pooled."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from promptready.http1 import Client
from tests.http1.conftest import Served, busy, open_connections, read_request, serve, then_waiting

CHUNK_THEN_WAIT = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n"
SHARED_FAKE = Path("/work/shared/bench/fake_upstream.py")


async def test_a_task_cancelled_waiting_for_the_head_closes_its_connection(client: Client) -> None:
    async with serve(then_waiting()) as s:
        call = asyncio.create_task(client.request("POST", s.url(), body=b"{}"))
        await asyncio.sleep(0.1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.sleep(0.1)
        assert s.disconnects == 1
        assert open_connections(client, s.url()) == 0


async def test_a_task_cancelled_reading_the_body_closes_its_connection(client: Client) -> None:
    async with serve(then_waiting(CHUNK_THEN_WAIT)) as s:
        response = await client.request("GET", s.url())
        assert await response.next_chunk() == b"a"
        reading = asyncio.create_task(response.next_chunk())
        await asyncio.sleep(0.05)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        response.release()
        await asyncio.sleep(0.1)
        assert s.disconnects == 1
        assert open_connections(client, s.url()) == 0


async def test_a_task_cancelled_waiting_for_a_pool_slot_leaves_the_queue() -> None:
    made = Client(pool_size=1, proxies_from_env=False)

    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while await read_request(reader):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    async with serve(handler) as s:
        first = await made.request("GET", s.url())
        waiting = asyncio.create_task(made.request("GET", s.url()))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await first.read()
        first.release()
        again = await asyncio.wait_for(made.request("GET", s.url()), 1)  # the slot came back
        assert await again.read() == b"ok"
        again.release()
        assert (busy(made, s.url()), s.connections) == (0, 1)
    await made.close()


@pytest.fixture
def slow_stream() -> Iterator[str]:
    """The shared fake upstream, streaming one chunk every 50 ms; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "FAKE_CHUNK_DELAY_MS": "50", "FAKE_CHUNKS": "40"}
    server = subprocess.Popen(
        [sys.executable, str(SHARED_FAKE), "--port", str(port)],
        cwd=SHARED_FAKE.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.skipif(not SHARED_FAKE.exists(), reason="needs /work/shared/bench/fake_upstream.py")
async def test_closing_a_stream_early_is_seen_by_the_upstream(
    client: Client, slow_stream: str
) -> None:
    body = orjson.dumps({"model": "m", "stream": True, "messages": []})
    response = await client.request("POST", f"{slow_stream}/v1/chat/completions", body=body)
    assert await response.next_chunk()
    response.close()
    await asyncio.sleep(0.3)  # the fake notices between two delayed chunks
    stats = await client.request("GET", f"{slow_stream}/stats")
    assert orjson.loads(await stats.read())["streams_cut"] == 1
    stats.release()
