"""What a request may be billed for, read from the request alone (what a budget hold reserves)."""

from __future__ import annotations

import orjson
import pytest

from promptready.gateway.estimate import DEFAULT_COMPLETION_TOKENS, token_bound
from promptready.ledger.meter import TokenBound
from promptready.tokens import count_messages

CHAT = "/chat/completions"


def test_the_prompt_bound_is_the_body_size_over_two() -> None:
    assert token_bound({}, 300, CHAT).prompt == 150
    assert token_bound({}, 301, CHAT).prompt == 151  # rounded up


@pytest.mark.parametrize(
    "text",
    [
        "Summarise this meeting transcript in five bullet points for the team.",
        "def add(a: int, b: int) -> int:\n    return a + b\n" * 20,
        "東京の天気について教えてください。明日は雨が降りますか？",
        "Ünïcödé ümläüts änd àccents everywhere: ça va très bien, merci!",
    ],
)
def test_the_prompt_bound_is_above_the_billed_token_count(text: str) -> None:
    messages = [{"role": "user", "content": text}]
    body = orjson.dumps({"model": "gpt-4o-mini", "messages": messages})
    billed = count_messages(messages, "gpt-4o-mini").tokens
    assert token_bound({}, len(body), CHAT).prompt >= billed


@pytest.mark.parametrize(
    ("payload", "completion"),
    [
        ({"max_tokens": 50}, 50),
        ({"max_completion_tokens": 70, "max_tokens": 50}, 70),  # the newer field wins
        ({"max_tokens": 50, "n": 3}, 150),  # every choice is billed
        ({}, DEFAULT_COMPLETION_TOKENS),
        ({"max_tokens": True}, DEFAULT_COMPLETION_TOKENS),  # not a count
        ({"max_tokens": -5}, DEFAULT_COMPLETION_TOKENS),
    ],
)
def test_chat_completion_tokens_follow_the_requests_own_cap(
    payload: dict[str, object], completion: int
) -> None:
    assert token_bound(payload, 0, CHAT).completion == completion


def test_responses_api_caps_with_max_output_tokens() -> None:
    assert token_bound({"max_output_tokens": 99}, 0, "/responses").completion == 99


def test_embeddings_have_no_completion() -> None:
    assert token_bound({"max_tokens": 99}, 30, "/embeddings") == TokenBound(15, 0)
