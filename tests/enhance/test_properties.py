"""Properties over generated input: nothing lost, idempotent, deterministic."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from promptready.enhance import OutputFormat, enhance
from promptready.errors import InputError

WORDS = st.sampled_from(
    [
        "write",
        "fix",
        "summarize",
        "the",
        "report",
        "error",
        "code",
        "email",
        "python",
        "tests",
        "quickly",
        "for",
        "my",
        "team",
        "data",
        "42",
        "https://x.io/a?b=1",
        "`cmd`",
        "{{var}}",
        '"quoted"',
        "Traceback:",
        "ValueError:",
        ";",
        "{",
        "}",
        "def",
        "return",
        "über",
        "café",
        "niño",
        "?",
        "!",
        ".",
        ",",
        ":",
        "\n",
        "\n\n",
    ]
)
TEXTS = st.lists(WORDS, min_size=1, max_size=60).map(" ".join)
FORMATS = st.sampled_from(list(OutputFormat))


def enhanced(text: str, fmt: OutputFormat) -> str | None:
    try:
        return enhance(text, fmt).text
    except InputError:
        return None


@settings(max_examples=150, deadline=None)
@given(TEXTS, FORMATS)
def test_every_word_of_the_input_survives(text: str, fmt: OutputFormat) -> None:
    out = enhanced(text, fmt)
    if out is None:
        assert not text.strip()
        return
    for token in re.findall(r"\S+", text):
        assert token in out


@settings(max_examples=150, deadline=None)
@given(TEXTS, FORMATS)
def test_enhancing_twice_equals_enhancing_once(text: str, fmt: OutputFormat) -> None:
    once = enhanced(text, fmt)
    if once is not None:
        assert enhance(once, fmt).text == once


@settings(max_examples=100, deadline=None)
@given(TEXTS, FORMATS)
def test_same_input_same_output(text: str, fmt: OutputFormat) -> None:
    assert enhanced(text, fmt) == enhanced(text, fmt)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), FORMATS)
def test_arbitrary_text_never_crashes(text: str, fmt: OutputFormat) -> None:
    enhanced(text, fmt)
