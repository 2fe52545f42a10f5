"""How sections are chosen: light when unsure, compact for one-liners, optional fill-ins only
for facts really missing, and a way to strip the fill-ins left empty."""

from __future__ import annotations

import pytest

from promptready.enhance import OutputFormat, Touch, enhance, strip_unfilled
from promptready.enhance.pipeline import CONFIDENT


def test_an_unsure_guess_gets_only_the_task_and_material() -> None:
    result = enhance("capital of australia")
    assert result.analysis.confidence < CONFIDENT
    assert result.analysis.touch is Touch.LIGHT
    assert result.text == "## Task\n\ncapital of australia"
    assert result.analysis.lint[0].rule == "unsure-task"


def test_a_confident_guess_gets_the_template() -> None:
    result = enhance("write a python script that renames my photos by the date they were taken")
    assert result.analysis.touch is Touch.FULL and "## Response format" in result.text


def test_a_light_output_enhanced_again_is_unchanged() -> None:
    for fmt in OutputFormat:
        once = enhance("capital of australia", fmt).text
        assert enhance(once, fmt).text == once


@pytest.mark.parametrize(
    "text",
    [
        "write an email to my landlord about the heater",
        "write a story for my 5 yo about a brave snail",
        "write a note to Sam about the keys",
        "slack msg to #eng: deploy is postponed",
        "reply to this\n\nHi Tom,\n\nCan we move the call to Friday?\n\nBest,\nAnna",
    ],
)
def test_no_audience_fill_in_when_the_text_names_the_reader(text: str) -> None:
    assert "[AUDIENCE?]" not in enhance(text).text


def test_at_most_two_fill_ins_in_one_optional_section() -> None:
    result = enhance("write an article about composting")
    assert 0 < len(result.analysis.placeholders) <= 2
    assert result.text.count("## Details to fill in (optional)") == 1


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_fill_ins_left_empty_are_stripped_with_their_section(fmt: OutputFormat) -> None:
    text = enhance("write an article about composting", fmt).text
    stripped = strip_unfilled(text)
    assert "[AUDIENCE?]" not in stripped and "fill" not in stripped.lower()
    assert stripped.startswith(text[:20]) and "write an article about composting" in stripped


def test_stripping_keeps_a_fill_in_the_user_filled() -> None:
    text = enhance("write an article about composting").text.replace(
        "[AUDIENCE?]", "Gardeners new to composting"
    )
    assert strip_unfilled(text) == text


def test_the_reply_reader_is_the_sender_of_the_pasted_message() -> None:
    letter = (
        "From: Dana Whitfield\nSubject: Invoice\n\nHi,\n\nThe invoice is late.\n\nRegards,\nDana"
    )
    assert enhance(f"reply to this\n\n{letter}").analysis.slots.audience == "Dana Whitfield"


def test_reworking_a_given_text_needs_no_reader_fill_in() -> None:
    text = "shorten this and make it more formal: hey guys, the meeting moved to 3pm, pls be there"
    assert enhance(text).analysis.placeholders == ()


def test_a_list_without_a_count_is_ten_of_what_was_asked_for() -> None:
    assert (
        "A numbered list of 10 names" in enhance("names for a coffee truck in a mountain town").text
    )
