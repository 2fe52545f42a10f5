"""Loopback Host names, browser Origins and bearer tokens, decided on raw header bytes."""

from __future__ import annotations

import pytest

from promptready.gateway.security import (
    bearer_token,
    host_name,
    is_loopback_bind,
    is_loopback_host,
    origin_allowed,
)


@pytest.mark.parametrize(
    "host",
    [b"127.0.0.1", b"127.0.0.1:8788", b"localhost:8788", b"LOCALHOST", b"[::1]:8788", b"[::1]"],
)
def test_loopback_names_are_accepted(host: bytes) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    [
        None,
        b"",
        b"evil.example:8788",
        b"127.0.0.1.evil.example",
        b"localhost.evil.example",
        b"192.168.1.10:8788",
        b"[::2]:8788",
        b"127.0.0.2",  # only the names a local tool really uses
    ],
)
def test_foreign_or_missing_hosts_are_refused(host: bytes | None) -> None:
    assert not is_loopback_host(host)


def test_host_name_strips_the_port_but_keeps_ipv6_brackets() -> None:
    assert host_name(b"[::1]:80") == b"[::1]"
    assert host_name(b"Example.COM:443") == b"example.com"


def test_no_origin_means_not_a_browser_and_is_fine() -> None:
    assert origin_allowed(None, frozenset())


def test_browser_origin_needs_an_exact_allow_list_entry() -> None:
    allowed = frozenset({b"http://localhost:3000"})
    assert origin_allowed(b"http://localhost:3000/", allowed)
    assert not origin_allowed(b"http://localhost:3001", allowed)
    assert not origin_allowed(b"null", allowed)
    assert not origin_allowed(b"https://evil.example", frozenset())


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
