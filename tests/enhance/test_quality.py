"""The quality indicator is how ready the request was: low for bare one-liners."""

from __future__ import annotations

import pytest

from promptready.enhance import enhance


@pytest.mark.parametrize(
    "text", ["write a poem", "capital of australia", "email about friday", "give me 20 ideas"]
)
def test_a_bare_one_liner_never_scores_high(text: str) -> None:
    assert enhance(text).analysis.quality <= 60


def test_a_request_with_reader_form_and_context_scores_high() -> None:
    text = (
        "write a 300 word blog post for beginners as markdown about composting in small flats:"
        " we sell worm bins, most readers rent, and many have no balcony or garden at all"
    )
    assert enhance(text).analysis.quality >= 85


def test_material_without_a_task_scores_low() -> None:
    assert enhance("def f(x):\n    return x * 2\n").analysis.quality <= 60
