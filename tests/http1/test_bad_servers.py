"""What a broken server gets: the right error, at once, and no connection left behind."""

from __future__ import annotations

import asyncio
import socket

import pytest

from promptready.http1 import (
    Client,
    ConnectError,
    HTTPError,
    MalformedResponseError,
    RemoteClosedError,
)
from tests.http1.conftest import Served, busy, read_request, serve


def saying(*pieces: bytes, reset: bool = False):  # type: ignore[no-untyped-def]
    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        served.requests.append(await read_request(reader))
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
        if reset:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
        writer.transport.abort()

    return handler


async def body_of(client: Client, url: str) -> bytes:
    response = await client.request("GET", url, {"Authorization": "Bearer sk-SECRET"})
    try:
        return await response.read()
    finally:
        response.release()


@pytest.mark.parametrize(
    ("pieces", "error"),
    [
        ((b"SMTP ready\r\n\r\n",), MalformedResponseError),
        ((b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",), MalformedResponseError),
        ((b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",), RemoteClosedError),
        (
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n",),
            MalformedResponseError,
        ),
        (
            (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope",),
            MalformedResponseError,
        ),
        ((b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", b"part"), RemoteClosedError),
    ],
    ids=["garbage-status", "huge-header", "short-body", "bad-chunk-size", "bad-gzip", "cut"],
)
async def test_a_bad_answer_is_the_right_error(
    client: Client, pieces: tuple[bytes, ...], error: type[HTTPError]
) -> None:
    async with serve(saying(*pieces)) as s:
        with pytest.raises(error) as raised:
            await asyncio.wait_for(body_of(client, s.url("/v1?key=sk-SECRET")), 2)
        assert busy(client, s.url()) == 0
    assert "SECRET" not in str(raised.value)


async def test_a_reset_mid_body_is_a_closed_connection(client: Client) -> None:
    pieces = (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", b"part")
    async with serve(saying(*pieces, reset=True)) as s:
        with pytest.raises(RemoteClosedError, match="mid-answer"):
            await asyncio.wait_for(body_of(client, s.url()), 2)
        assert busy(client, s.url()) == 0


async def test_nothing_listening_is_a_connect_error_that_tells_no_secret(client: Client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectError) as raised:
        await body_of(client, f"http://127.0.0.1:{port}/v1?key=sk-SECRET")
    assert f"127.0.0.1:{port}" in str(raised.value)
    assert "SECRET" not in str(raised.value)
    assert raised.value.__context__ is None  # the OSError, and anything it might hold, is gone


async def test_an_error_raised_mid_body_carries_no_context(client: Client) -> None:
    pieces = (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", b"part")
    async with serve(saying(*pieces)) as s:
        with pytest.raises(RemoteClosedError) as raised:
            await body_of(client, s.url())
    assert raised.value.__context__ is None


@pytest.mark.parametrize(
    ("method", "url", "headers"),
    [
        ("GET", "ftp://127.0.0.1/", {}),
        ("GET", "http:///nohost", {}),
        ("GET", "http://127.0.0.1:port/", {}),
        ("GET", "http://user:pw@127.0.0.1/", {}),
        ("GET", "http://127.0.0.1/", {"X-Bad": "a\r\nInjected: yes"}),
        ("GET", "http://127.0.0.1/", {"Bad Name": "v"}),
        ("GET", "http://127.0.0.1/", {"Host": "elsewhere"}),
        ("GET", "http://127.0.0.1/", {"X-Text": "snow ☃"}),
        ("GET /x", "http://127.0.0.1/", {}),
    ],
    ids=["scheme", "no-host", "port", "userinfo", "crlf", "name", "host", "latin-1", "method"],
)
async def test_a_request_that_cannot_be_sent_is_a_value_error(
    client: Client, method: str, url: str, headers: dict[str, str]
) -> None:
    with pytest.raises(ValueError) as raised:
        await client.request(method, url, headers)
    assert "Injected" not in str(raised.value) and "pw" not in str(raised.value)
