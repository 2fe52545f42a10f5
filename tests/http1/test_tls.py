"""https: TLS with the server's name checked (SNI), against a loopback server and a test CA."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
import trustme

from promptready.http1 import Client, ConnectError
from tests.http1.conftest import answer, open_connections, replying, serve


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_tls(ca: trustme.CA) -> Iterator[ssl.SSLContext]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    yield context


def trusting(ca: trustme.CA) -> Client:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return Client(ssl_context=context, proxies_from_env=False)


async def test_an_https_request_to_a_trusted_server_is_answered(
    ca: trustme.CA, server_tls: ssl.SSLContext
) -> None:
    client = trusting(ca)
    async with serve(replying(answer(b"secure")), tls=server_tls) as s:
        response = await client.request("GET", s.url(scheme="https", host="localhost"))
        assert await response.read() == b"secure"
        response.release()
        again = await client.request("GET", s.url(scheme="https", host="localhost"))
        await again.read()
        again.release()
        assert s.connections == 1  # TLS connections are pooled too
    await client.close()


async def test_a_certificate_for_another_name_is_refused(
    ca: trustme.CA, server_tls: ssl.SSLContext
) -> None:
    client = trusting(ca)
    async with serve(replying(answer()), tls=server_tls) as s:
        with pytest.raises(ConnectError, match=r"127\.0\.0\.1"):
            await client.request("GET", s.url(scheme="https"))  # cert says localhost
        assert open_connections(client, s.url(scheme="https")) == 0
    await client.close()


async def test_a_certificate_from_an_unknown_authority_is_refused(
    server_tls: ssl.SSLContext,
) -> None:
    client = Client(proxies_from_env=False)  # the system's CAs only
    async with serve(replying(answer()), tls=server_tls) as s:
        with pytest.raises(ConnectError) as raised:
            await client.request("GET", s.url(scheme="https", host="localhost"))
        assert raised.value.__context__ is None
    await client.close()
