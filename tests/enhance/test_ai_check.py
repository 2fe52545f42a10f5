"""Checking an AI answer: a rewrite keeps the user's material, names, numbers and words; an answer
to the prompt, or one that drops what the user wrote, is refused with the reason."""

from __future__ import annotations

import pytest

from promptready.enhance import enhance
from promptready.enhance.ai_check import check_rewrite, measure

CODE_ASK = "write a python script that renames photos by date"
EMAIL_ASK = "email to my landlord Mr Smith about the broken heater in flat 4B since 12 March"
LOGS = (
    "summarize these logs:\n\n"
    "2024-01-01 ERROR db timeout after 30s\n"
    "2024-01-01 ERROR db timeout after 30s\n"
    "2024-01-02 WARN retrying connection"
)


def check(original: str, answer: str) -> str | None:
    return check_rewrite(original, answer, enhance(original).analysis)


@pytest.mark.parametrize(
    ("original", "answer"),
    [
        (CODE_ASK, "Write a Python script that renames photos by date."),
        (CODE_ASK, "Rename photos by date."),
        (
            EMAIL_ASK,
            "Write a polite email to my landlord, Mr Smith, about the heater in flat 4B that "
            "has been broken since 12 March. Ask for a repair date.",
        ),
        (LOGS, LOGS.replace("summarize these logs:", "Summarize these logs in 3 bullets:")),
    ],
)
def test_a_faithful_rewrite_is_accepted(original: str, answer: str) -> None:
    assert check(original, answer) is None


def test_an_answer_that_drops_every_word_is_refused() -> None:
    assert check("write a haiku about tea", "Rewritten prompt for fake-gpt") == (
        "the AI answer kept too little of what you wrote"
    )


@pytest.mark.parametrize(
    "answer", ["Sure! The capital of France is Paris.", "Certainly, here you go: Paris."]
)
def test_answering_a_question_instead_of_rewriting_it_is_refused(answer: str) -> None:
    reason = check("what is the capital of France?", answer)
    assert reason == "the model answered the prompt instead of rewriting it"


def test_writing_the_email_itself_is_refused() -> None:
    reason = check(
        EMAIL_ASK, "Dear Mr Smith,\n\nThe heater in flat 4B has been broken since 12 March."
    )
    assert reason == "the model wrote the message itself instead of a prompt for it"


def test_writing_the_code_itself_is_refused() -> None:
    answer = "```python\nimport os\nfor name in os.listdir('.'):\n    pass\n```"
    assert check(CODE_ASK, answer) == "the model wrote the code instead of a prompt for it"


def test_leaving_out_pasted_material_is_refused() -> None:
    assert check(LOGS, "Summarize the logs I pasted.") == (
        "the AI answer left out part of the text you pasted"
    )


def test_dropping_a_number_is_refused_and_named() -> None:
    answer = "Write a polite email to my landlord Mr Smith about the broken heater in my flat."
    reason = check(EMAIL_ASK, answer)
    assert reason is not None and "numbers" in reason and "12" in reason


def test_dropping_names_is_refused() -> None:
    original = "ask Priya and Tomasz whether the Lisbon offsite moves to Porto"
    answer = "Ask the team whether the offsite moves to another city."
    assert check(original, answer) == "the AI answer dropped names from your text"


def test_measures_say_how_much_was_kept() -> None:
    kept = measure(EMAIL_ASK, "Email Mr Smith about flat 4B.")
    assert kept.missing_numbers == ("12",)
    assert kept.names == pytest.approx(2 / 3)  # Mr and Smith kept, March dropped
    assert kept.words is not None and 0 < kept.words < 1
    assert kept.material is None
