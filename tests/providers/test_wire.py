"""The OpenAI wire format: SSE framing per the spec, usage, chunk ↔ completion, include_usage."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptready.providers.sse import SSEEvent as AliasEvent
from promptready.providers.sse import SSEParser as AliasParser
from promptready.providers.wire import (
    DONE,
    SSEEvent,
    SSEFramer,
    SSEParser,
    StreamRelay,
    Usage,
    completion,
    completion_as_sse,
    completion_from_sse,
    data_event,
    data_fields,
    data_of,
    delta_text,
    is_usage_only,
    split_events,
    usage_of,
    wants_usage,
    with_usage_requested,
)

ENDINGS = (b"\n", b"\r\n", b"\r")


def chunk(text: str) -> dict[str, Any]:
    return {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": text}}]}


USAGE_CHUNK = {
    "id": "c1",
    "model": "m",
    "choices": [],
    "usage": {"prompt_tokens": 7, "completion_tokens": 3},
}


def framed(payloads: list[dict[str, Any]], end: bytes, comments: bool = True) -> bytes:
    """A chat stream: a keep-alive comment, one event per payload, [DONE], with ``end`` lines."""
    out = [b": keep-alive" + end + end] if comments else []
    for payload in payloads:
        out.append(b"data: " + orjson.dumps(payload) + end + end)
    out.append(b"data: [DONE]" + end + end)
    return b"".join(out)


def parse_in_pieces(stream: bytes, cuts: list[int]) -> list[SSEEvent]:
    parser = SSEParser()
    events: list[SSEEvent] = []
    start = 0
    for cut in sorted(set(cuts)):
        events += parser.feed(stream[start:cut])
        start = cut
    return events + parser.feed(stream[start:]) + parser.close()


texts = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6)


@given(texts, st.data())
def test_the_same_stream_framed_lf_crlf_or_cr_and_split_anywhere_gives_the_same_events(
    words: list[str], data: st.DataObject
) -> None:
    payloads = [*(chunk(w) for w in words), USAGE_CHUNK]
    results = []
    for end in ENDINGS:
        stream = framed(payloads, end)
        cuts = data.draw(st.lists(st.integers(1, len(stream) - 1), max_size=20))
        results.append(parse_in_pieces(stream, cuts))
    expected = [SSEEvent(orjson.dumps(p).decode()) for p in payloads] + [SSEEvent("[DONE]")]
    assert results == [expected] * 3


@given(texts)
def test_one_byte_at_a_time_gives_the_same_chunks_and_usage_for_every_line_end(
    words: list[str],
) -> None:
    payloads = [*(chunk(w) for w in words), USAGE_CHUNK]
    seen = []
    for end in ENDINGS:
        stream = framed(payloads, end)
        relay = StreamRelay(keep_usage=False)
        out = b"".join(relay.feed(stream[i : i + 1]) for i in range(len(stream))) + relay.close()
        texts_out = [delta_text(orjson.loads(d)) for d in _datas(out) if d != b"[DONE]"]
        seen.append((texts_out, relay.usage, relay.done))
    assert seen == [(words, Usage(7, 3), True)] * 3


def _datas(stream: bytes) -> list[bytes]:
    framer = SSEFramer()
    return [d for b in framer.feed(stream) if (d := data_of(b)) is not None]


MIXED = (
    b": keep-alive\n\n"
    b'data: {"a": 1}\n\n'
    b"event: response.completed\r\ndata: line one\r\ndata: line two\r\n\r\n"
    b"id: 7\rdata: [DONE]\r\r\n"
)


@given(st.lists(st.integers(min_value=1, max_value=len(MIXED) - 1), max_size=12))
def test_a_stream_mixing_all_three_line_ends_parses_the_same_however_split(
    cuts: list[int],
) -> None:
    assert parse_in_pieces(MIXED, cuts) == [
        SSEEvent('{"a": 1}'),
        SSEEvent("line one\nline two", event="response.completed"),
        SSEEvent("[DONE]", id="7"),
    ]


def test_an_unfinished_event_waits_for_its_blank_line() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: half") == []
    assert parser.feed(b"\n") == []
    assert parser.feed(b"\n") == [SSEEvent("half")]


def test_comment_only_blocks_dispatch_no_event() -> None:
    assert SSEParser().feed(b": ping\n\n: ping\n\n") == []


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert SSEParser().feed(b"data: caf\xe9\n\n") == [SSEEvent("caf\ufffd")]


def test_multi_line_data_joins_with_newlines_and_comments_inside_are_skipped() -> None:
    stream = b"data: one\r\n: note\r\ndata: two\r\nevent: x\r\nid: 4\r\n\r\n"
    assert SSEParser().feed(stream) == [SSEEvent("one\ntwo", event="x", id="4")]


def test_a_trailing_cr_waits_for_a_possible_lf() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r\r") == []  # the second CR may be half of CRLF
    assert parser.feed(b"\n") == [SSEEvent("a")]
    assert parser.feed(b"") == []


def test_a_trailing_cr_at_the_end_of_the_stream_ends_its_line() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r\r") == []
    assert parser.close() == [SSEEvent("a")]


def test_a_leading_byte_order_mark_is_ignored_even_split() -> None:
    parser = SSEParser()
    assert parser.feed(b"\xef\xbb") == []
    assert parser.feed(b"\xbfdata: x\n\n") == [SSEEvent("x")]


def test_a_field_without_colon_and_a_blank_line_first_are_read_as_the_spec_says() -> None:
    assert SSEParser().feed(b"\n\ndata\n\n") == [SSEEvent("")]


def test_the_event_type_resets_after_each_dispatch_and_the_id_carries_over() -> None:
    events = SSEParser().feed(b"event: a\nid: 1\ndata: x\n\ndata: y\n\n")
    assert events == [SSEEvent("x", "a", "1"), SSEEvent("y", "message", "1")]


def test_the_old_sse_module_is_an_alias_of_the_wire_module() -> None:
    assert AliasParser is SSEParser and AliasEvent is SSEEvent


def test_relay_drops_the_usage_chunk_the_client_did_not_ask_for_but_reads_it() -> None:
    stream = framed([chunk("hi"), USAGE_CHUNK], b"\r\n", comments=False)
    relay = StreamRelay(keep_usage=False)
    out = relay.feed(stream)
    assert b'"usage"' not in out and out.endswith(DONE)
    assert relay.usage == Usage(7, 3)


def test_relay_keeps_the_usage_chunk_when_the_client_asked() -> None:
    relay = StreamRelay(keep_usage=True)
    assert b'"usage"' in relay.feed(framed([USAGE_CHUNK], b"\n"))


def test_relay_passes_keep_alive_comments_on() -> None:
    assert StreamRelay(keep_usage=False).feed(b": ping\r\n\r\n") == b": ping\n\n"


def test_relay_with_a_usage_event_that_is_not_json_relays_it_and_reads_no_usage() -> None:
    relay = StreamRelay(keep_usage=False)
    assert relay.feed(b'data: {"usage": \n\n') == b'data: {"usage": \n\n'
    assert relay.usage is None


def test_usage_of_reads_chat_embeddings_and_responses_shapes() -> None:
    assert usage_of({"usage": {"prompt_tokens": 2, "completion_tokens": 5}}) == Usage(2, 5)
    assert usage_of({"usage": {"prompt_tokens": 4, "total_tokens": 4}}) == Usage(4, 0)
    responses = {
        "type": "response.completed",
        "response": {"usage": {"input_tokens": 3, "output_tokens": 1}},
    }
    assert usage_of(responses) == Usage(3, 1)


@given(st.one_of(st.none(), st.integers(), st.text(), st.booleans(), st.floats()))
def test_usage_with_bad_counts_is_none_not_a_crash(value: object) -> None:
    assert usage_of({"usage": {"prompt_tokens": value, "completion_tokens": 1}}) is None or (
        type(value) is int and value >= 0
    )
    assert usage_of(value) is None
    assert usage_of({"usage": value}) is None


def test_negative_token_counts_are_not_usage() -> None:
    assert usage_of({"usage": {"prompt_tokens": -1, "completion_tokens": 1}}) is None


def test_usage_carries_the_credits_the_credit_service_charged() -> None:
    usage = {"prompt_tokens": 9, "completion_tokens": 600, "credits_charged": 2}
    assert usage_of({"usage": usage}) == Usage(9, 600, credits_charged=2)


@given(st.one_of(st.none(), st.integers(max_value=-1), st.text(), st.booleans(), st.floats()))
def test_a_bad_credits_charged_is_not_believed(value: object) -> None:
    usage = {"prompt_tokens": 9, "completion_tokens": 1, "credits_charged": value}
    assert usage_of({"usage": usage}) == Usage(9, 1)


# OpenRouter's usage object, as its Usage Accounting page shows it.
OPENROUTER_USAGE = {
    "prompt_tokens": 194,
    "completion_tokens": 2,
    "total_tokens": 196,
    "cost": 0.95,
    "is_byok": False,
    "prompt_tokens_details": {"cached_tokens": 150, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 1},
    "cost_details": {"upstream_inference_cost": None},
}


def with_usage(**fields: object) -> dict[str, Any]:
    return {"usage": {"prompt_tokens": 100, "completion_tokens": 10, **fields}}


def test_usage_reads_cached_and_reasoning_tokens_and_the_upstreams_cost() -> None:
    usage = usage_of({"usage": OPENROUTER_USAGE})
    assert usage == Usage(194, 2, cached_tokens=150, reasoning_tokens=1, cost_usd=Decimal("0.95"))


def test_reasoning_tokens_stay_inside_the_completion_tokens() -> None:
    usage = usage_of(with_usage(completion_tokens_details={"reasoning_tokens": 8}))
    assert usage is not None
    assert (usage.completion_tokens, usage.reasoning_tokens, usage.total_tokens) == (10, 8, 110)


def test_the_responses_api_names_its_details_input_and_output() -> None:
    body = {
        "usage": {
            "input_tokens": 40,
            "output_tokens": 9,
            "input_tokens_details": {"cached_tokens": 32},
            "output_tokens_details": {"reasoning_tokens": 4},
        }
    }
    assert usage_of(body) == Usage(40, 9, cached_tokens=32, reasoning_tokens=4)


def test_deepseeks_cache_hit_tokens_are_cached_tokens() -> None:
    assert usage_of(with_usage(prompt_cache_hit_tokens=64)) == Usage(100, 10, cached_tokens=64)


def test_plain_usage_has_no_cached_tokens_and_no_cost() -> None:
    assert usage_of(with_usage()) == Usage(100, 10, cached_tokens=0, cost_usd=None)


def test_a_float_cost_is_the_number_as_written_not_its_binary_expansion() -> None:
    usage = usage_of(with_usage(cost=0.1))
    assert usage is not None and usage.cost_usd == Decimal("0.1")


def test_an_integer_cost_is_read() -> None:
    usage = usage_of(with_usage(cost=0))
    assert usage is not None and usage.cost_usd == Decimal(0)


BAD_COSTS = [-0.01, -1, True, False, "0.5", None, [0.5], {"usd": 1}, 1e300, 10**30, 1001]


@pytest.mark.parametrize("cost", BAD_COSTS, ids=repr)
def test_a_bad_cost_is_ignored_and_the_tokens_still_count(cost: object) -> None:
    assert usage_of(with_usage(cost=cost)) == Usage(100, 10)


@pytest.mark.parametrize("cost", [float("nan"), float("inf"), float("-inf")], ids=repr)
def test_a_cost_that_is_not_finite_is_ignored(cost: float) -> None:
    assert usage_of(with_usage(cost=cost)) == Usage(100, 10)


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text()))
def test_any_cost_is_either_a_sane_amount_or_ignored(cost: object) -> None:
    usage = usage_of(with_usage(cost=cost))
    assert usage is not None
    assert usage.cost_usd is None or Decimal(0) <= usage.cost_usd <= Decimal(1000)


def test_a_byok_cost_adds_the_providers_charge_to_openrouters_fee() -> None:
    body = with_usage(cost=0.05, is_byok=True, cost_details={"upstream_inference_cost": 1})
    usage = usage_of(body)
    assert usage is not None and usage.cost_usd == Decimal("1.05")


def test_a_byok_cost_without_the_providers_charge_is_unknown() -> None:
    usage = usage_of(with_usage(cost=0.05, is_byok=True, cost_details={}))
    assert usage is not None and usage.cost_usd is None


BAD_PARTS = [-1, True, "5", 5.0, None, 101, 10**30]


@pytest.mark.parametrize("cached", BAD_PARTS, ids=repr)
def test_a_bad_cached_count_or_more_than_the_prompt_is_ignored(cached: object) -> None:
    body = with_usage(prompt_tokens_details={"cached_tokens": cached})
    assert usage_of(body) == Usage(100, 10, cached_tokens=0)


@pytest.mark.parametrize("reasoning", [-1, True, "5", 11, 10**30], ids=repr)
def test_a_bad_reasoning_count_or_more_than_the_completion_is_ignored(reasoning: object) -> None:
    body = with_usage(completion_tokens_details={"reasoning_tokens": reasoning})
    assert usage_of(body) == Usage(100, 10, reasoning_tokens=0)


@pytest.mark.parametrize("details", ["cached", 5, [1], None])
def test_details_that_are_not_tables_are_ignored(details: object) -> None:
    body = with_usage(prompt_tokens_details=details, completion_tokens_details=details)
    assert usage_of(body) == Usage(100, 10)


def test_a_huge_token_count_is_not_usage() -> None:
    assert usage_of(with_usage(prompt_tokens=10**30)) is None
    assert usage_of(with_usage(completion_tokens=10**12)) is None


def test_include_usage_is_added_keeping_other_stream_options() -> None:
    body = {"stream": True, "stream_options": {"other": 1}}
    assert with_usage_requested(body)["stream_options"] == {"other": 1, "include_usage": True}
    assert body["stream_options"] == {"other": 1}  # the caller's body is not changed
    assert with_usage_requested({"stream_options": "bad"})["stream_options"] == {
        "include_usage": True
    }
    assert wants_usage({"stream_options": {"include_usage": True}})
    assert not wants_usage({"stream_options": {"include_usage": "yes"}})


def test_usage_only_chunk_is_recognised() -> None:
    assert is_usage_only(USAGE_CHUNK)
    assert not is_usage_only(chunk("x"))


def test_a_completion_replays_as_its_message_then_its_finish_then_usage_then_done() -> None:
    stream = completion_as_sse(completion("c9", "m", "hi", Usage(1, 1), created=1), True)
    events = [e for e in stream.split(b"\n\n") if e]
    assert events[-1] == b"data: [DONE]"
    chunks = [orjson.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "hi"}
    assert chunks[1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[2]["usage"]["total_tokens"] == 2


def test_a_completion_round_trips_through_its_sse_form() -> None:
    body = completion("c9", "m", "hello there", Usage(5, 2), created=1)
    rebuilt = completion_from_sse(completion_as_sse(body, include_usage=True))
    assert rebuilt is not None
    assert rebuilt["choices"] == body["choices"]
    assert rebuilt["usage"] == body["usage"]


def test_a_stream_with_tool_calls_or_an_error_is_not_rebuilt() -> None:
    tool = {"choices": [{"index": 0, "delta": {"tool_calls": [{"id": "t"}]}}]}
    assert completion_from_sse(framed([tool], b"\n")) is None
    assert completion_from_sse(framed([{"error": {"message": "x"}}], b"\n")) is None
    assert completion_from_sse(b"data: not json\n\n") is None
    assert completion_from_sse(b"") is None


def test_relay_rebuilds_the_completion_of_a_finished_stream_for_the_cache() -> None:
    relay = StreamRelay(keep_usage=False, keep=True)
    relay.feed(framed([chunk("a"), chunk("b"), USAGE_CHUNK], b"\r"))
    relay.close()
    rebuilt = relay.completion()
    assert rebuilt is not None
    assert rebuilt["choices"][0]["message"]["content"] == "ab"


# A byte-order mark, blank lines before, between and inside events, all three line ends.
SPACED = (
    b"\xef\xbb\xbf\n: hi\r\n\r\n\r\ndata: a\r\rdata: b\n\n\n\n"
    b"event: x\ndata: c\r\n\r\ndata: [DONE]\n\n"
)


SPACED_EVENTS = [b": hi\n\n", b"data: a\n\n", b"data: b\n\n", b"event: x\ndata: c\n\n", DONE]


@given(st.lists(st.integers(min_value=1, max_value=len(SPACED) - 1), max_size=12))
def test_runs_are_whole_lf_framed_events_without_blank_lines_however_split(
    cuts: list[int],
) -> None:
    framer = SSEFramer()
    runs: list[bytes] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(SPACED)]:
        runs.append(framer.feed_run(SPACED[start:cut]))
        start = cut
    assert b"".join(runs) == b"".join(SPACED_EVENTS)
    assert [e for run in runs for e in split_events(run)] == SPACED_EVENTS
    assert all(b"".join(split_events(run)) == run for run in runs)


def test_relay_passes_a_read_of_plain_chunks_on_as_the_same_bytes() -> None:
    stream = b"".join(b"data: " + orjson.dumps(chunk(w)) + b"\n\n" for w in ("a", "b", "c"))
    relay = StreamRelay(keep_usage=False)
    assert relay.feed(stream) == stream and not relay.done and relay.usage is None


def test_relay_passes_the_chunks_before_the_usage_event_on_as_they_came_and_drops_it() -> None:
    plain = b"".join(b"data: " + orjson.dumps(chunk(w)) + b"\n\n" for w in ("a", "b"))
    relay = StreamRelay(keep_usage=False)
    out = relay.feed(plain + b"data: " + orjson.dumps(USAGE_CHUNK) + b"\n\n" + DONE)
    assert out == plain + DONE and relay.done and relay.usage == Usage(7, 3)


def test_data_fields_are_the_events_data_in_order_without_keep_alives() -> None:
    framer = SSEFramer()
    blocks = framer.feed(framed([chunk("a"), chunk("b")], b"\r\n"))
    assert data_fields(blocks) == [orjson.dumps(chunk("a")), orjson.dumps(chunk("b")), b"[DONE]"]


def test_data_fields_join_an_events_data_lines() -> None:
    assert data_fields([b"data: {\ndata: }\n\n", b": ping\n\n"]) == [b"{\n}"]


def test_a_data_event_carries_serialised_json_as_it_is() -> None:
    data = orjson.dumps(chunk("a"))
    assert data_event(data) == b"data: " + data + b"\n\n"


@given(st.text(st.characters(codec="utf-8", blacklist_characters="\r")))
def test_a_data_event_reads_back_as_its_data_whatever_lines_it_holds(text: str) -> None:
    data = text.encode()  # as the framer hands data out: LF line ends only
    assert data_fields(SSEFramer().feed(data_event(data))) == [data]
