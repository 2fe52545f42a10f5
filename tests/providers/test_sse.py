"""SSE parsing: events come out whole however the bytes are split."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from promptready.providers.sse import SSEEvent, SSEParser

STREAM = (
    b": keep-alive\n\n"
    b'data: {"a": 1}\n\n'
    b"event: response.completed\r\ndata: line one\r\ndata: line two\r\n\r\n"
    b"id: 7\rdata: [DONE]\r\r\n"
)
EXPECTED = [
    SSEEvent('{"a": 1}'),
    SSEEvent("line one\nline two", event="response.completed"),
    SSEEvent("[DONE]", id="7"),
]


def test_whole_stream_parses_into_events() -> None:
    assert SSEParser().feed(STREAM) == EXPECTED


@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), max_size=12))
def test_any_split_of_the_bytes_gives_the_same_events(cuts: list[int]) -> None:
    parser = SSEParser()
    events: list[SSEEvent] = []
    start = 0
    for cut in sorted(set(cuts)):
        events += parser.feed(STREAM[start:cut])
        start = cut
    events += parser.feed(STREAM[start:])
    assert events == EXPECTED


def test_incomplete_event_waits_for_its_blank_line() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: half") == []
    assert parser.feed(b"\n") == []
    assert parser.feed(b"\n") == [SSEEvent("half")]


def test_comment_only_blocks_dispatch_nothing() -> None:
    assert SSEParser().feed(b": ping\n\n: ping\n\n") == []


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert SSEParser().feed(b"data: caf\xe9\n\n") == [SSEEvent("caf\ufffd")]
