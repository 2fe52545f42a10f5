"""The coalescing transport: the writes of one event-loop turn reach the socket as one write."""

from __future__ import annotations

import asyncio
from typing import Any

from promptready.cloud.coalesce import CoalescingTransport


class RecordingTransport(asyncio.Transport):
    """A transport that keeps each write it is given, and whether it was closed or aborted."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))
        self.events.append("write")

    def close(self) -> None:
        self.closing = True
        self.events.append("close")

    def abort(self) -> None:
        self.closing = True
        self.events.append("abort")

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 9)}.get(name, default)


def coalescing() -> tuple[CoalescingTransport, RecordingTransport]:
    inner = RecordingTransport()
    return CoalescingTransport(inner, asyncio.get_running_loop()), inner


async def test_the_writes_of_one_turn_are_one_write_at_its_end() -> None:
    outer, inner = coalescing()
    outer.write(b"HTTP/1.1 200 OK\r\n\r\n")
    outer.write(b"body")
    assert inner.writes == []
    await asyncio.sleep(0)
    assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]


async def test_writes_in_later_turns_are_later_writes_in_order() -> None:
    outer, inner = coalescing()
    outer.write(b"a")
    await asyncio.sleep(0)
    outer.writelines([b"b", b"c"])
    await asyncio.sleep(0)
    assert inner.writes == [b"a", b"bc"]


async def test_flush_writes_at_once() -> None:
    outer, inner = coalescing()
    outer.write(b"done")
    outer.flush()
    assert inner.writes == [b"done"]
    await asyncio.sleep(0)
    assert inner.writes == [b"done"]  # the turn's end finds nothing left


async def test_close_sends_what_was_written_before_closing() -> None:
    outer, inner = coalescing()
    outer.write(b"last")
    outer.close()
    assert inner.events == ["write", "close"]
    assert inner.writes == [b"last"]


async def test_abort_drops_what_is_held() -> None:
    outer, inner = coalescing()
    outer.write(b"never")
    outer.abort()
    await asyncio.sleep(0)
    assert inner.events == ["abort"]


async def test_nothing_is_written_to_a_closing_socket() -> None:
    outer, inner = coalescing()
    outer.write(b"late")
    inner.closing = True
    await asyncio.sleep(0)
    assert inner.writes == []


async def test_held_bytes_count_in_the_write_buffer_and_extra_info_passes_through() -> None:
    outer, _ = coalescing()
    outer.write(b"12345")
    assert outer.get_write_buffer_size() == 5
    assert outer.get_extra_info("peername") == ("127.0.0.1", 9)
    assert outer.is_closing() is False
