"""How numbers and nouns read in the windows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from promptready.ui.wording import count, dollars, for_the_gui, with_article


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0", "$0.00"),
        ("0.000150", "< $0.01"),
        ("0.005", "< $0.01"),
        ("0.01", "$0.01"),
        ("12.345", "$12.35"),
        ("1234.5", "$1,234.50"),
    ],
)
def test_money_reads_to_the_cent(amount: str, shown: str) -> None:
    assert dollars(Decimal(amount)) == shown


def test_counts_have_the_right_plural() -> None:
    assert [count(n, "token") for n in (0, 1, 2, 1500)] == [
        "0 tokens",
        "1 token",
        "2 tokens",
        "1,500 tokens",
    ]
    assert count(2, "entry", "entries") == "2 entries"


@pytest.mark.parametrize(
    ("noun", "phrase"),
    [("email", "an email"), ("code", "a code"), ("unusual", "an unusual"), ("user", "a user")],
)
def test_the_article_sounds_right(noun: str, phrase: str) -> None:
    assert with_article(noun) == phrase


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (
            "No key for openai; add it with `promptready keys set openai`.",
            "No key for openai; you can fix this in Settings.",
        ),
        (
            "AI mode needs a provider: add your key with `promptready keys set openai` "
            "(or another provider), or use offline mode.",
            "AI mode needs a provider; you can fix this in Settings.",
        ),
        ("The key works.", "The key works."),
    ],
)
def test_gui_messages_never_ask_for_a_command(message: str, shown: str) -> None:
    assert for_the_gui(message) == shown
