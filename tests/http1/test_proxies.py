"""Proxies from the environment: http:// in absolute form, https:// through CONNECT then TLS,
credentials from the proxy URL as Proxy-Authorization, NO_PROXY honoured."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Awaitable, Callable

import pytest
import trustme

from promptready.http1 import Client, ConnectError
from promptready.http1.proxies import parse_proxy
from tests.http1.conftest import Served, answer, read_request, replying, serve

_VARS = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")
CREDENTIALS = "user:s3cret%40"  # "%40" is "@", unquoted before it is encoded
BASIC = "Basic " + base64.b64encode(b"user:s3cret@").decode()


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[Served], None]:
    """Set HTTP(S)_PROXY to a served proxy, with credentials, and nothing else."""
    for name in _VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)

    def point_at(proxy: Served) -> None:
        url = f"http://{CREDENTIALS}@127.0.0.1:{proxy.port}"
        monkeypatch.setenv("http_proxy", url)
        monkeypatch.setenv("https_proxy", url)

    return point_at


def tunnelling(origin_port: Callable[[], int]) -> Callable[..., Awaitable[None]]:
    """A proxy that records each request head and pipes CONNECT tunnels to the origin."""

    async def handler(
        served: Served, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = await read_request(reader)
        served.requests.append(head)
        if not head.startswith(b"CONNECT "):
            writer.write(answer(b"from the proxy"))
            await reader.read()
            return
        if f"Proxy-Authorization: {BASIC}".encode() not in head:
            writer.write(answer(b"", status=b"407 Proxy Authentication Required"))
            await reader.read()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", origin_port())
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                sink.write(data)
            sink.close()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            up_writer.transport.abort()

    return handler


async def test_http_goes_to_the_proxy_in_absolute_form_with_its_credentials(
    proxy_env: Callable[[Served], None],
) -> None:
    async with serve(tunnelling(lambda: 0)) as proxy:
        proxy_env(proxy)
        client = Client()
        response = await client.request("GET", "http://origin.test:8080/v1/models?x=1")
        assert await response.read() == b"from the proxy"
        response.release()
        await client.close()
    lines = proxy.requests[0].split(b"\r\n")
    assert lines[0] == b"GET http://origin.test:8080/v1/models?x=1 HTTP/1.1"
    assert b"Host: origin.test:8080" in lines
    assert f"Proxy-Authorization: {BASIC}".encode() in lines


async def test_https_tunnels_through_connect_then_speaks_tls_to_the_origin(
    proxy_env: Callable[[Served], None],
) -> None:
    ca = trustme.CA()
    origin_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(origin_tls)
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    origin_server = serve(replying(answer(b"from the origin")), tls=origin_tls)
    async with origin_server as origin, serve(tunnelling(lambda: origin.port)) as proxy:
        proxy_env(proxy)
        client = Client(ssl_context=trust)
        url = f"https://localhost:{origin.port}/v1/models"
        response = await client.request("GET", url, {"Authorization": "Bearer origin-key"})
        assert await response.read() == b"from the origin"
        response.release()
        await client.close()
    connect = proxy.requests[0]
    assert connect.startswith(f"CONNECT localhost:{origin.port} HTTP/1.1\r\n".encode())
    assert b"origin-key" not in connect  # the origin's headers travel only inside TLS
    assert origin.requests[0].startswith(b"GET /v1/models HTTP/1.1\r\n")


async def test_a_refused_tunnel_is_a_connect_error_without_the_credentials(
    proxy_env: Callable[[Served], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serve(tunnelling(lambda: 0)) as proxy:
        monkeypatch.setenv("https_proxy", f"http://user:wrong@127.0.0.1:{proxy.port}")
        client = Client()
        with pytest.raises(ConnectError, match="407") as raised:
            await client.request("GET", "https://origin.test/v1/models")
        await client.close()
    assert "wrong" not in str(raised.value) and "user" not in str(raised.value)


async def test_no_proxy_hosts_are_reached_directly(
    proxy_env: Callable[[Served], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serve(replying(answer(b"direct"))) as origin, serve(tunnelling(lambda: 0)) as proxy:
        proxy_env(proxy)
        monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
        client = Client()
        response = await client.request("GET", origin.url())
        assert await response.read() == b"direct"
        response.release()
        await client.close()
    assert proxy.connections == 0


def test_a_proxy_never_shows_its_credentials() -> None:
    proxy = parse_proxy("http://user:pa%3Ass@proxy.test:3128")
    assert proxy.authorization == "Basic " + base64.b64encode(b"user:pa:ss").decode()
    assert "pa" not in repr(proxy).replace("proxy.test", "") and "user" not in proxy.label


@pytest.mark.parametrize("url", ["https://proxy.test:3128", "socks5://proxy.test", "http://p:port"])
def test_a_proxy_url_we_cannot_use_is_a_value_error(url: str) -> None:
    with pytest.raises(ValueError):
        parse_proxy(url)
