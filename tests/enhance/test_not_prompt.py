"""Inputs that ask nothing come back as they are; everything else is still enhanced."""

from __future__ import annotations

import pytest

from promptready.enhance import Severity, Touch, enhance
from promptready.enhance.lexicon import lexicon
from promptready.enhance.lint import hint


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "thanks!",
        "👍",
        "+49 170 1234567",
        "https://example.com/x",
        "asdfgh",
        "milk\neggs\nbread",
    ],
)
def test_not_a_prompt_is_returned_unchanged_with_a_hint_and_no_quality(text: str) -> None:
    result = enhance(text)
    assert result.text == text and result.analysis.touch is Touch.NONE
    assert result.analysis.quality == 0
    assert result.analysis.lint[0].message.startswith("This does not read as a request")


@pytest.mark.parametrize(
    "text",
    [
        "ok so what is a monad?",
        "capital of australia",
        "thanks for the help yesterday, now write a poem about rain",
        "milk, eggs, bread: which of these can I freeze?",
        "write a poem",
    ],
)
def test_a_real_ask_is_not_mistaken_for_small_talk(text: str) -> None:
    assert enhance(text).analysis.touch is not Touch.NONE


def test_hints_come_in_the_requests_language() -> None:
    assert hint("not-a-prompt", Severity.WARNING, "de").message.startswith("Das liest sich nicht")
    french = lexicon().phrasebooks["fr"].lint.values()
    assert all(h.message in french for h in enhance("Écris un poème sur la mer").analysis.lint)


@pytest.mark.parametrize(
    "text", ["Einkaufsliste:\n- Brot\n- Käse\n- Tomaten", "courses :\n- pain\n- lait\n- oeufs"]
)
def test_a_list_under_its_own_title_is_not_a_prompt(text: str) -> None:
    assert enhance(text).analysis.touch is Touch.NONE


def test_a_list_under_an_ask_is_still_a_prompt() -> None:
    assert enhance("summarize:\n- pain\n- lait\n- oeufs").analysis.touch is not Touch.NONE


@pytest.mark.parametrize("text", ["Guten Morgen", "dzień dobry", "おはようございます", "收到"])
def test_greetings_in_other_languages_are_not_prompts(text: str) -> None:
    assert enhance(text).analysis.touch is Touch.NONE
