"""Token counts: billing-accurate, offline, and flagged when they are estimates."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptready import tokens
from promptready.errors import ResourceError
from promptready.tokens import TokenCount, TokenCounter

# OpenAI cookbook "How to count tokens with tiktoken": the API billed 129 prompt tokens for
# gpt-3.5-turbo-0613 and gpt-4-0613, and 124 for gpt-4o.
COOKBOOK = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities "
        "for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client "
        "deliverable.",
    },
]
# Counts produced by tiktoken.get_encoding itself on these texts (checked once, offline).
MIXED = "I'm here, you're there; they'LL win 1234567 times!\n\n  x"
MULTILINGUAL = "日本語のテキストとEmoji 🎉 ÀÉÎ naïve café"


@pytest.fixture
def cl100k_only(tmp_path: Path) -> TokenCounter:
    """A counter whose o200k_base file is absent, as before packaging/fetch_encodings.py ran."""
    sources = tokens.default_sources()
    return TokenCounter(
        {"o200k_base": (tmp_path / "absent",), "cl100k_base": sources["cl100k_base"]}
    )


def test_hello_world_is_two_tokens() -> None:
    assert tokens.count_text("hello world", "gpt-4") == TokenCount(2, "cl100k_base", False)


@pytest.mark.parametrize("model", ["gpt-3.5-turbo-0613", "gpt-4-0613"])
def test_cookbook_chat_counts_129_tokens_for_cl100k_models(model: str) -> None:
    assert tokens.count_messages(COOKBOOK, model) == TokenCount(129, "cl100k_base", False)


def test_cookbook_chat_counts_124_tokens_for_gpt_4o() -> None:
    assert tokens.count_messages(COOKBOOK, "gpt-4o") == TokenCount(124, "o200k_base", False)


@pytest.mark.parametrize(
    ("model", "text", "expected"),
    [
        ("gpt-4o", MIXED, 18),
        ("gpt-4", MIXED, 20),
        ("gpt-4.1", MULTILINGUAL, 16),
        ("gpt-3.5-turbo", MULTILINGUAL, 19),
    ],
)
def test_encodings_split_text_exactly_as_tiktoken_does(
    model: str, text: str, expected: int
) -> None:
    assert tokens.count_text(text, model).tokens == expected


@pytest.mark.parametrize(
    ("model", "encoding", "guessed"),
    [
        ("gpt-4o-mini", "o200k_base", False),
        ("openai/gpt-4.1-nano", "o200k_base", False),
        ("o3-mini", "o200k_base", False),
        ("gpt-5", "o200k_base", False),
        ("gpt-3.5-turbo", "cl100k_base", False),
        ("text-embedding-3-small", "cl100k_base", False),
        ("groq/llama-3.1-8b-instant", "o200k_base", True),
    ],
)
def test_models_map_to_encodings(model: str, encoding: str, guessed: bool) -> None:
    assert tokens.encoding_for_model(model) == (encoding, guessed)


def test_other_providers_models_are_counted_as_estimates() -> None:
    assert tokens.count_text("hola", "mistral-small-latest").estimated


def test_a_missing_encoding_falls_back_to_the_nearest_and_says_so(
    cl100k_only: TokenCounter,
) -> None:
    assert cl100k_only.count_text("hello world", "gpt-4o") == TokenCount(2, "cl100k_base", True)


def test_a_file_with_the_wrong_hash_is_not_used(tmp_path: Path) -> None:
    forged = tmp_path / "o200k_base.tiktoken"
    forged.write_bytes(b"aGk= 0\n")
    counter = TokenCounter({"o200k_base": (forged,), **_cl100k()})
    assert counter.available() == ["cl100k_base"]


def test_no_encoding_at_all_is_a_clear_resource_error(tmp_path: Path) -> None:
    with pytest.raises(ResourceError, match="reinstall"):
        TokenCounter({}).count_text("hi", "gpt-4o")


def test_counters_share_one_loaded_copy_of_each_file() -> None:
    first, second = TokenCounter(_cl100k()), TokenCounter(_cl100k())
    assert first._encoding("cl100k_base") is second._encoding("cl100k_base")


def test_special_token_text_is_counted_as_ordinary_text() -> None:
    assert tokens.count_text("<|endoftext|>", "gpt-4o").tokens > 1


def test_text_content_parts_are_counted() -> None:
    parts = [{"role": "user", "content": [{"type": "text", "text": "hello world"}]}]
    # reply priming + one message + "user" + "hello world"
    assert tokens.count_messages(parts, "gpt-4") == TokenCount(3 + 3 + 1 + 2, "cl100k_base", False)


def test_images_make_a_chat_count_an_estimate() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    parts = [{"role": "user", "content": [image]}]
    assert tokens.count_messages(parts, "gpt-4o").estimated


def test_an_empty_assistant_content_costs_only_the_overhead() -> None:
    messages = [{"role": "assistant", "content": None}]
    assert tokens.count_messages(messages, "gpt-4o") == TokenCount(3 + 3 + 1, "o200k_base", False)


def _cl100k() -> dict[str, tuple[Path, ...]]:
    return {"cl100k_base": tokens.default_sources()["cl100k_base"]}
