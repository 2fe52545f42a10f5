"""Loopback Host names, browser Origins and bearer tokens, decided on raw header bytes."""

from __future__ import annotations

import pytest

from promptready.gateway.security import (
    bearer_token,
    cors_request_headers_allowed,
    host_allowed,
    is_loopback_bind,
    origin_allowed,
    parse_host,
)

PORT = 8788


@pytest.mark.parametrize(
    "host",
    [b"127.0.0.1", b"127.0.0.1:8788", b"localhost:8788", b"LOCALHOST", b"[::1]:8788", b"[::1]"],
)
def test_loopback_names_with_the_serving_port_or_none_are_accepted(host: bytes) -> None:
    assert host_allowed(host, PORT, frozenset(), any_name=False)


@pytest.mark.parametrize(
    "host",
    [
        b"",
        b"evil.example:8788",
        b"127.0.0.1.evil.example",
        b"localhost.evil.example",
        b"192.168.1.10:8788",
        b"[::2]:8788",
        b"127.0.0.2",  # only the names a local tool really uses
        b"localhost:9999",  # another port: another server
        b"127.0.0.1:8788@evil.com",
        b"localhost:evil.com",
        b"[::1].evil.com",
        b"::1",  # an IPv6 address needs its brackets
        b"localhost:8788 ",
        b"localhost:0008788",
        b"local host",
    ],
)
def test_foreign_or_malformed_hosts_are_refused(host: bytes) -> None:
    assert not host_allowed(host, PORT, frozenset(), any_name=False)


def test_a_configured_name_is_accepted_but_only_with_the_port() -> None:
    extra = frozenset({b"promptready.test"})
    assert host_allowed(b"PromptReady.test:8788", PORT, extra, any_name=False)
    assert not host_allowed(b"promptready.test:8789", PORT, extra, any_name=False)


def test_allow_remote_accepts_any_well_formed_name_on_the_port() -> None:
    assert host_allowed(b"192.168.1.10:8788", PORT, frozenset(), any_name=True)
    assert not host_allowed(b"192.168.1.10:8788@evil.com", PORT, frozenset(), any_name=True)
    assert not host_allowed(b"192.168.1.10:1", PORT, frozenset(), any_name=True)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (b"[::1]:80", (b"[::1]", 80)),
        (b"Example.COM:443", (b"example.com", 443)),
        (b"localhost:", (b"localhost", None)),  # RFC 3986: an empty port is no port
        (b"caf%C3%A9", (b"caf%c3%a9", None)),
        (b"a:b:c", None),
        (b"[::1", None),
        (b"host:123456", None),
    ],
)
def test_host_grammar(value: bytes, parsed: tuple[bytes, int | None] | None) -> None:
    assert parse_host(value) == parsed


def test_no_origin_means_not_a_browser_and_is_fine() -> None:
    assert origin_allowed(None, frozenset())


def test_browser_origin_needs_an_exact_allow_list_entry() -> None:
    allowed = frozenset({b"http://localhost:3000"})
    assert origin_allowed(b"http://localhost:3000/", allowed)
    assert not origin_allowed(b"http://localhost:3001", allowed)
    assert not origin_allowed(b"null", allowed)
    assert not origin_allowed(b"https://evil.example", frozenset())


def test_preflight_headers_are_those_the_openai_sdks_send() -> None:
    assert cors_request_headers_allowed(b"Authorization, content-type, x-stainless-os")
    assert not cors_request_headers_allowed(b"authorization, cookie")


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (b"Bearer pr-abc", "pr-abc"),
        (b"bearer   pr-abc  ", "pr-abc"),
        (b"Basic dXNlcg==", None),
        (b"Bearer ", None),
        (b"Bearer \xff\xfe", None),
        (None, None),
    ],
)
def test_bearer_token_parsing(header: bytes | None, token: str | None) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize(("host", "ok"), [("127.0.0.1", True), ("::1", True), ("0.0.0.0", False)])
def test_only_loopback_binds_are_safe(host: str, ok: bool) -> None:
    assert is_loopback_bind(host) is ok
