"""How an answer's body is framed and decoded."""

from __future__ import annotations

import asyncio
import gzip
import zlib

import pytest

from promptready.http1 import BodyTooLargeError, Client
from tests.http1.conftest import (
    Served,
    answer,
    busy,
    open_connections,
    read_request,
    replying,
    serve,
)


async def test_a_content_length_body_is_read_whole(client: Client) -> None:
    async with serve(replying(answer(b'{"ok": true}', b"Content-Type: application/json"))) as s:
        response = await client.request("GET", s.url("/v1/models"))
        assert response.status == 200
        assert response.header("content-type") == b"application/json"
        assert await response.read() == b'{"ok": true}'
        response.release()
        assert busy(client, s.url()) == 0


async def test_headers_are_listed_with_lower_cased_names_in_order(client: Client) -> None:
    reply = answer(b"", b"X-One: 1", b"X-Two: 2", b"x-one: 3")
    async with serve(replying(reply)) as s:
        response = await client.request("GET", s.url())
        names = [(name, value) for name, value in response.headers if name.startswith(b"x-")]
        assert names == [(b"x-one", b"1"), (b"x-two", b"2"), (b"x-one", b"3")]
        assert response.header(b"X-ONE") == b"1"
        assert response.header("missing") is None
        response.release()


async def test_chunks_arrive_as_the_server_sends_them(client: Client) -> None:
    second = asyncio.Event()

    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await second.wait()
        writer.write(b"6\r\nsecond\r\n0\r\n\r\n")
        await asyncio.sleep(1)

    async with serve(handler) as s:
        response = await client.request("POST", s.url(), body=b"{}")
        assert await response.next_chunk() == b"first"  # before the server sent the rest
        second.set()
        assert [chunk async for chunk in response] == [b"second"]
        assert await response.next_chunk() == b""
        response.release()
        assert busy(client, s.url()) == 0


async def test_a_body_without_length_ends_when_the_server_closes(client: Client) -> None:
    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nuntil the end")
        await writer.drain()
        writer.close()

    async with serve(handler) as s:
        response = await client.request("GET", s.url())
        assert await response.read() == b"until the end"
        response.release()
        assert open_connections(client, s.url()) == 0  # not kept: it is closed


async def test_no_content_and_not_modified_have_no_body_and_keep_the_connection(
    client: Client,
) -> None:
    replies = (b"HTTP/1.1 204 No Content\r\n\r\n", b"HTTP/1.1 304 Not Modified\r\n\r\n")
    async with serve(replying(*replies)) as s:
        for status in (204, 304):
            response = await client.request("GET", s.url())
            assert (response.status, await response.read()) == (status, b"")
            response.release()
        assert s.connections == 1


async def test_a_head_answer_has_no_body_even_with_a_length(client: Client) -> None:
    async with serve(replying(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")) as s:
        response = await asyncio.wait_for(client.request("HEAD", s.url()), 2)
        assert response.header("content-length") == b"1000"
        assert await response.read() == b""
        response.release()
        assert busy(client, s.url()) == 0


async def test_interim_answers_are_skipped(client: Client) -> None:
    reply = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    async with serve(replying(reply + answer(b"final"))) as s:
        response = await client.request("POST", s.url(), body=b"x")
        assert response.status == 200
        assert response.header("link") is None
        assert await response.read() == b"final"
        response.release()


async def test_gzip_and_deflate_bodies_are_decoded(client: Client) -> None:
    text = b"hello " * 1000
    replies = (
        answer(gzip.compress(text), b"Content-Encoding: gzip"),
        answer(zlib.compress(text), b"Content-Encoding: deflate"),
    )
    async with serve(replying(*replies)) as s:
        for _ in replies:
            response = await client.request("GET", s.url())
            assert await response.read() == text
            response.release()
        request = s.requests[0].lower()
        assert b"accept-encoding" not in request  # the caller's to ask for, not ours


async def test_connection_close_is_honoured(client: Client) -> None:
    async with serve(replying(answer(b"bye", b"Connection: close"))) as s:
        for _ in range(2):
            response = await client.request("GET", s.url())
            assert await response.read() == b"bye"
            response.release()
        assert s.connections == 2


async def test_a_redirect_is_returned_not_followed(client: Client) -> None:
    reply = answer(b"", b"Location: http://elsewhere.test/", status=b"307 Temporary Redirect")
    async with serve(replying(reply)) as s:
        response = await client.request("POST", s.url(), body=b"secret prompt")
        assert (response.status, response.header("location")) == (307, b"http://elsewhere.test/")
        response.release()
        assert len(s.requests) == 1


async def test_the_request_carries_host_user_agent_length_and_the_callers_headers() -> None:
    made = Client(user_agent="PromptReady/test", proxies_from_env=False)
    async with serve(replying(answer())) as s:
        response = await made.request(
            "POST", s.url("/v1/chat?x=1"), [("Authorization", "Bearer k")], b"body"
        )
        response.release()
        await made.close()
    head, _, body = s.requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/chat?x=1 HTTP/1.1"
    assert set(lines[1:]) == {
        b"Host: 127.0.0.1:%d" % s.port,
        b"User-Agent: PromptReady/test",
        b"Authorization: Bearer k",
        b"Content-Length: 4",
    }
    assert body == b"body"


async def test_a_read_with_a_limit_returns_a_body_within_it(client: Client) -> None:
    async with serve(replying(answer(b"x" * 100))) as s:
        response = await client.request("GET", s.url())
        assert await response.read(100) == b"x" * 100
        response.release()
        assert open_connections(client, s.url()) == 1  # read to its end: reused


async def test_a_body_over_the_read_limit_is_an_error_naming_no_path(client: Client) -> None:
    async with serve(replying(answer(b"x" * 101))) as s:
        response = await client.request("GET", s.url("/secret-path"))
        with pytest.raises(BodyTooLargeError, match="over 100 bytes") as raised:
            await response.read(100)
        assert "secret-path" not in str(raised.value)
        response.release()


async def test_pieces_that_arrived_together_are_read_as_one(client: Client) -> None:
    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"8\r\ndata: 1\n\r\n8\r\ndata: 2\n\r\n"  # two HTTP chunks in one write
        )
        await writer.drain()
        await asyncio.sleep(1)

    async with serve(handler) as s:
        response = await client.request("POST", s.url(), body=b"{}")
        assert await response.next_chunk() == b"data: 1\ndata: 2\n"
        response.close()
