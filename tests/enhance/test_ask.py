"""Reading what the ask states: counts, list shape, per-item extras, parts, explain."""

from __future__ import annotations

import pytest

from promptready.enhance import TaskType, enhance
from promptready.enhance.ask import Ask, read_ask, split_parts


def ask_of(text: str, task: TaskType = TaskType.WRITING) -> Ask:
    return read_ask(text, text.lower(), task)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("give me 20 ideas for a party", "20 ideas"),
        ("3 options for the logo pls", "3 options"),
        ("summarize it in 5 bullets", "5 bullets"),
        ("ten catchy names for a bakery", "ten catchy names"),
        ("gib mir 5 Vorschläge", "5 Vorschläge"),
    ],
)
def test_a_stated_count_is_read_as_written(text: str, count: str) -> None:
    assert ask_of(text).count == count


def test_a_number_that_counts_nothing_is_not_a_count() -> None:
    assert ask_of("team building for 15 remote people, budget $500").count is None


def test_a_count_sets_the_brainstorm_format() -> None:
    out = enhance("give me 20 ideas for a birthday party").text
    assert "20 ideas" in out.split("## Response format", 1)[1]
    assert "10" not in out


def test_action_items_with_owners_get_a_list_with_owners() -> None:
    notes = "Anna will send the deck. Bob books the room by Friday. We ship v2 in June."
    result = enhance(f"list the action items with owners\n\n{notes}")
    fmt = result.text.split("## Response format\n\n", 1)[1]
    assert fmt.startswith("A list, one item per line") and "Give owners for each item." in fmt
    assert "overview" not in fmt


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (
            "write a blog post about composting, then a tweet announcing it",
            ("write a blog post about composting,", "then a tweet announcing it"),
        ),
        (
            "write an email to my landlord about the heater and a subject line",
            ("write an email to my landlord about the heater", "and a subject line"),
        ),
        (
            "write a poem about rain. Then translate it to french.",
            ("write a poem about rain.", "Then translate it to french."),
        ),
    ],
)
def test_a_multi_part_ask_is_cut_into_its_parts_verbatim(text: str, parts: tuple[str, ...]) -> None:
    assert split_parts(text) == parts


@pytest.mark.parametrize(
    "text",
    ["pros and cons of remote work", "write a story about salt and pepper", "shorten and fix this"],
)
def test_and_inside_one_deliverable_does_not_cut(text: str) -> None:
    assert split_parts(text) == ()


def test_a_multi_part_ask_gets_the_parts_format_not_a_single_default() -> None:
    out = enhance("write a blog post about composting, then a tweet announcing it").text
    assert "Answer each numbered part of the task in order" in out
    assert "The finished text" not in out


def test_explaining_code_gets_the_explain_variant() -> None:
    result = enhance("explain this code\n\ndef f(x):\n    return x * 2\n")
    assert "explains code clearly" in result.text
    assert "step by step in plain words" in result.text
    assert "severity" not in result.text


def test_reviewing_code_keeps_the_review_variant() -> None:
    result = enhance("review this\n\ndef f(x):\n    return x * 2\n")
    assert "meticulous code reviewer" in result.text and "severity" in result.text


def test_a_stated_length_replaces_the_sized_summary_default() -> None:
    text = "summarize this in 3 sentences:\n\n" + "The board met and agreed the budget. " * 5
    fmt = enhance(text).text.split("## Response format\n\n", 1)[1]
    assert fmt == "Keep to the length asked for: 3 sentences."


def test_a_form_stated_for_one_part_still_gets_the_parts_format() -> None:
    text = "translate to spanish and then summarize in 2 bullets: The board approved the budget."
    assert "Answer each numbered part of the task in order" in enhance(text).text


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Résume cet article en 5 lignes max", "5 lignes"),
        ("Fass es in 3 Sätzen zusammen", "3 Sätzen"),
    ],
)
def test_lengths_in_other_languages_replace_the_sized_default(text: str, length: str) -> None:
    article = "La ville a annoncé mardi un nouveau réseau de pistes cyclables pour 2027."
    assert length in enhance(f"{text}:\n\n{article}").text.rsplit("\n\n", 1)[-1]


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("my json config is broken, why", None),
        ("Ich habe eine Excel-Tabelle", None),
        ("the codes were exported in csv from the old system", None),
        ("the data is exported as json, give it back as a table", "as a table"),
    ],
)
def test_a_bare_format_word_about_the_material_is_not_the_answers_form(
    text: str, form: str | None
) -> None:
    assert enhance(text).analysis.slots.format == form
