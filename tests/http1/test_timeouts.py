"""Connect, idle and total deadlines: each ends the wait with HTTPTimeoutError and closes."""

from __future__ import annotations

import asyncio
import time

import pytest

from promptready.http1 import Client, HTTPTimeoutError
from tests.http1.conftest import Served, open_connections, read_request, serve


async def silent(
    served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    await read_request(reader)
    await asyncio.sleep(10)


async def test_a_tls_handshake_that_never_finishes_is_a_connect_timeout() -> None:
    made = Client(connect_s=0.2, proxies_from_env=False)

    async def mute(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await asyncio.sleep(10)  # accepts TCP, never speaks TLS

    async with serve(mute) as s:
        started = time.monotonic()
        with pytest.raises(HTTPTimeoutError, match="connect"):
            await made.request("GET", s.url(scheme="https"))
        assert time.monotonic() - started < 2
        assert open_connections(made, s.url(scheme="https")) == 0
    await made.close()


async def test_no_answer_within_the_idle_time_is_a_timeout() -> None:
    made = Client(idle_s=0.2, proxies_from_env=False)
    async with serve(silent) as s:
        started = time.monotonic()
        with pytest.raises(HTTPTimeoutError, match="sent nothing"):
            await made.request("GET", s.url())
        assert 0.15 < time.monotonic() - started < 2
        assert open_connections(made, s.url()) == 0
    await made.close()


async def test_a_body_that_goes_quiet_is_a_timeout() -> None:
    made = Client(idle_s=0.2, proxies_from_env=False)

    async def stall(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n")
        await asyncio.sleep(10)

    async with serve(stall) as s:
        response = await made.request("GET", s.url())
        assert await response.next_chunk() == b"hi"
        with pytest.raises(HTTPTimeoutError):
            await response.next_chunk()
        response.release()
        assert open_connections(made, s.url()) == 0
    await made.close()


async def test_a_trickle_that_is_never_idle_still_ends_at_the_total_deadline() -> None:
    made = Client(idle_s=0.2, total_s=0.5, proxies_from_env=False)

    async def trickle(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        while True:
            writer.write(b"1\r\n.\r\n")
            await asyncio.sleep(0.05)

    async with serve(trickle) as s:
        response = await made.request("GET", s.url())
        started = time.monotonic()
        with pytest.raises(HTTPTimeoutError, match="in time"):
            while await response.next_chunk():
                pass
        assert time.monotonic() - started < 2
        response.release()
    await made.close()


async def test_a_slow_reader_is_not_taken_for_an_idle_server() -> None:
    made = Client(idle_s=0.2, proxies_from_env=False)

    async def generous(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        body = b"x" * (4 << 20)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        await asyncio.sleep(10)

    async with serve(generous) as s:
        response = await made.request("GET", s.url())
        await asyncio.sleep(0.5)  # the client's buffer is full and reading paused: no timeout
        assert len(await response.read()) == 4 << 20
        response.release()
    await made.close()
