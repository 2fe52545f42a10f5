"""Token counts: billing-accurate, offline, and flagged when they are estimates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promptready import tokens

# OpenAI cookbook "How to count tokens with tiktoken": 129 prompt tokens for gpt-4-0613,
# 124 for gpt-4o.
COOKBOOK = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English.",
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
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]


@pytest.fixture
def no_encoding_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    (tmp_path / "encodings").mkdir()
    monkeypatch.setattr(tokens, "resources_dir", lambda: tmp_path)
    tokens._load.cache_clear()
    yield
    tokens._load.cache_clear()


def test_hello_world_is_two_tokens() -> None:
    assert tokens.count_text("hello world", "gpt-4") == tokens.TokenCount(2, "cl100k_base", False)


def test_chat_messages_are_counted_as_openai_bills_them() -> None:
    assert tokens.count_messages(COOKBOOK, "gpt-4-0613").tokens == 129
    assert tokens.count_messages(COOKBOOK, "gpt-4o").tokens == 124


@pytest.mark.parametrize(
    ("model", "encoding", "guessed"),
    [
        ("gpt-4o-mini", "o200k_base", False),
        ("openai/gpt-4.1-nano", "o200k_base", False),
        ("o3-mini", "o200k_base", False),
        ("gpt-3.5-turbo", "cl100k_base", False),
        ("text-embedding-3-small", "cl100k_base", False),
        ("groq/llama-3.1-8b-instant", "o200k_base", True),
    ],
)
def test_models_map_to_encodings(model: str, encoding: str, guessed: bool) -> None:
    assert tokens.encoding_for_model(model) == (encoding, guessed)


def test_other_providers_models_are_marked_estimates() -> None:
    assert tokens.count_text("hola", "mistral-small-latest").estimated


@pytest.mark.usefixtures("no_encoding_files")
def test_missing_encoding_falls_back_to_the_nearest_and_says_so() -> None:
    count = tokens.count_text("hello world", "gpt-4o")
    assert count.encoding == "cl100k_base" and count.estimated and count.tokens == 2


def test_special_token_text_is_counted_not_refused() -> None:
    assert tokens.count_text("<|endoftext|>", "gpt-4o").tokens > 0


def test_content_parts_are_counted() -> None:
    parts = [{"role": "user", "content": [{"type": "text", "text": "hello world"}]}]
    assert (
        tokens.count_messages(parts, "gpt-4").tokens == 3 + 3 + 1 + 2
    )  # priming, message, "user", text
