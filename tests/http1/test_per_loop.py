"""One client per running loop: a new loop gets its own, and the old one lets go of its
idle connections on its own loop."""

from __future__ import annotations

import asyncio
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from promptready.http1 import Client, LoopClient


class _KeepAlive(socketserver.BaseRequestHandler):
    """Answers every request on a connection with a short 200, counts the connection's end."""

    server: _Server

    def handle(self) -> None:
        conn: socket.socket = self.request
        while conn.recv(65536):  # one small request per read, on loopback
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        with self.server.lock:
            self.server.ended += 1


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    ended = 0
    lock = threading.Lock()


@pytest.fixture
def server() -> Iterator[_Server]:
    with _Server(("127.0.0.1", 0), _KeepAlive) as made:
        thread = threading.Thread(target=made.serve_forever, daemon=True)
        thread.start()
        yield made
        made.shutdown()


def _url(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/"


async def _fetch(holder: LoopClient, url: str) -> Client:
    client = holder.get()
    response = await client.request("GET", url)
    await response.read()
    response.release()  # back to the pool: an idle keep-alive connection
    return client


def _wait_for(condition: object, seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_one_loop_keeps_one_client(server: _Server) -> None:
    holder = LoopClient(lambda: Client(proxies_from_env=False))

    async def twice() -> tuple[Client, Client]:
        try:
            return await _fetch(holder, _url(server)), await _fetch(holder, _url(server))
        finally:
            await holder.close()

    first, second = asyncio.run(twice())
    assert first is second


def test_a_new_loop_gets_its_own_client_and_the_old_one_closes_its_idle_connections(
    server: _Server,
) -> None:
    holder = LoopClient(lambda: Client(proxies_from_env=False))
    old_loop, new_loop = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        first = old_loop.run_until_complete(_fetch(holder, _url(server)))
        second = new_loop.run_until_complete(_fetch(holder, _url(server)))
        assert second is not first
        assert server.ended == 0
        old_loop.run_until_complete(asyncio.sleep(0.05))  # the old loop runs its hand-off
        _wait_for(lambda: server.ended == 1)
        new_loop.run_until_complete(holder.close())
        _wait_for(lambda: server.ended == 2)
    finally:
        old_loop.close()
        new_loop.close()


def test_the_client_of_a_closed_loop_is_replaced_without_an_error() -> None:
    holder = LoopClient(lambda: Client(proxies_from_env=False))

    async def get() -> Client:
        return holder.get()

    first = asyncio.run(get())  # asyncio.run closes its loop: nothing can run on it any more
    assert asyncio.run(get()) is not first
