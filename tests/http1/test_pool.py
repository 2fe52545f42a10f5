"""Keep-alive pools: reuse, bounds per origin, the keep-alive race, and what is never reused."""

from __future__ import annotations

import asyncio

import pytest

from promptready.http1 import Client, RemoteClosedError
from tests.http1.conftest import (
    Served,
    answer,
    busy,
    open_connections,
    read_request,
    replying,
    serve,
    then_waiting,
)


async def test_a_connection_is_reused_for_the_next_request(client: Client) -> None:
    async with serve(replying(answer())) as s:
        for _ in range(3):
            response = await client.request("GET", s.url())
            await response.read()
            response.release()
        assert (s.connections, len(s.requests)) == (1, 3)


async def test_a_half_read_answer_closes_its_connection(client: Client) -> None:
    async with serve(then_waiting(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")) as s:
        response = await client.request("GET", s.url())
        assert await response.next_chunk() == b"half"
        response.release()
        assert open_connections(client, s.url()) == 0
        await asyncio.sleep(0.1)
        assert s.disconnects == 1


async def test_the_pool_bounds_connections_per_origin_and_serves_waiters_in_order() -> None:
    made = Client(pool_size=1, proxies_from_env=False)
    gate = asyncio.Event()

    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while request := await read_request(reader):
            await gate.wait()
            served.requests.append(request)
            writer.write(answer(request.split(b" ")[1]))

    async with serve(handler) as s:

        async def call(path: str) -> bytes:
            response = await made.request("GET", s.url(path))
            try:
                return await response.read()
            finally:
                response.release()

        calls = [asyncio.create_task(call(f"/{n}")) for n in range(3)]
        await asyncio.sleep(0.1)
        assert open_connections(made, s.url()) == 1
        gate.set()
        assert await asyncio.gather(*calls) == [b"/0", b"/1", b"/2"]
        assert s.connections == 1
        await made.close()


async def test_a_hung_origin_does_not_starve_calls_to_another() -> None:
    made = Client(pool_size=1, idle_s=5, proxies_from_env=False)

    async def hang(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        await asyncio.sleep(10)

    async with serve(hang) as hung, serve(replying(answer(b"fine"))) as fine:
        stuck = [asyncio.create_task(made.request("GET", hung.url())) for _ in range(2)]
        await asyncio.sleep(0.05)
        response = await asyncio.wait_for(made.request("GET", fine.url()), 1)
        assert await response.read() == b"fine"
        response.release()
        for task in stuck:
            task.cancel()
        await asyncio.gather(*stuck, return_exceptions=True)
        await made.close()


async def test_an_idle_connection_the_server_closed_leaves_the_pool(client: Client) -> None:
    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        served.requests.append(await read_request(reader))
        writer.write(answer())
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()  # the server's idle timeout

    async with serve(handler) as s:
        response = await client.request("GET", s.url())
        await response.read()
        response.release()
        pool = client.pool(client.route(s.url()))
        assert pool.idle == 1
        await asyncio.sleep(0.2)
        assert (pool.open, pool.idle) == (0, 0)


async def test_a_reused_connection_closed_before_answering_is_retried_once_fresh(
    client: Client,
) -> None:
    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request = await read_request(reader)
        served.requests.append(request)
        writer.write(answer(b"%d" % served.connections))
        await writer.drain()
        await read_request(reader)  # the second request on this connection: closed unanswered
        writer.transport.abort()

    async with serve(handler) as s:
        for expected in (b"1", b"2"):
            response = await client.request("POST", s.url(), body=b"x")
            assert await response.read() == expected
            response.release()
        assert s.connections == 2
        assert busy(client, s.url()) == 0


async def test_a_fresh_connection_closed_before_answering_is_not_retried(client: Client) -> None:
    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        served.requests.append(await read_request(reader))
        writer.transport.abort()

    async with serve(handler) as s:
        with pytest.raises(RemoteClosedError):
            await client.request("POST", s.url(), body=b"x")
        assert len(s.requests) == 1
        assert open_connections(client, s.url()) == 0


async def test_an_answer_cut_after_its_first_byte_is_not_retried(client: Client) -> None:
    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while request := await read_request(reader):
            served.requests.append(request)
            if len(served.requests) == 1:
                writer.write(answer())
            else:
                writer.write(b"HTTP/1.1 200")
                await writer.drain()
                writer.transport.abort()

    async with serve(handler) as s:
        response = await client.request("GET", s.url())
        await response.read()
        response.release()
        with pytest.raises(RemoteClosedError, match="mid-answer"):
            await client.request("GET", s.url())
        assert len(s.requests) == 2
        assert open_connections(client, s.url()) == 0
