"""An enhancement's prompt tokens, with the meta-prompt counted once per process, are exactly
what ``count_messages`` counts for the whole message list (the hold and the fallback charge
depend on them)."""

from __future__ import annotations

import pytest

from promptready.cloud.routes.costs import ESTIMATE_MODEL
from promptready.cloud.routes.enhance import PromptTokens
from promptready.enhance import OutputFormat, enhance
from promptready.enhance.ai import build_messages
from promptready.tokens import count_messages


@pytest.mark.parametrize(
    "content",
    [
        "write a python function that sorts a list of dicts by a key",
        "Résumé en français, s'il vous plaît: 3 points, pas plus. 🚀",
        "x",
    ],
)
def test_the_count_equals_count_messages_of_the_whole_list(content: str) -> None:
    messages = build_messages(content, enhance(content, OutputFormat.MARKDOWN).analysis)
    assert PromptTokens().count(messages) == count_messages(messages, ESTIMATE_MODEL).tokens


def test_messages_without_the_meta_prompt_are_counted_in_full() -> None:
    messages = [
        {"role": "system", "content": "another system prompt"},
        {"role": "user", "content": "hello"},
    ]
    counter = PromptTokens()
    assert counter.count(messages) == count_messages(messages, ESTIMATE_MODEL).tokens
    assert counter.count([]) == count_messages([], ESTIMATE_MODEL).tokens
