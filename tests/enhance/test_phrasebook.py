"""Every language's strings are complete data: a missing one is a clear error, never English."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptready.enhance.lexicon import lexicon
from promptready.enhance.model import TaskType
from promptready.enhance.phrasebook import CHANGES, HEADINGS, LINT_RULES, load_phrasebook
from promptready.errors import ResourceError

FULL = ("en", "de", "fr", "es", "pt", "it", "nl")
LIGHT = ("ja", "zh", "ru", "pl", "tr")
TASKS = tuple(t.value for t in TaskType)


def test_the_shipped_languages_are_the_seven_full_and_five_light_ones() -> None:
    books = lexicon().phrasebooks
    assert {c for c, b in books.items() if b.full} == set(FULL)
    assert {c for c, b in books.items() if not b.full} == set(LIGHT)


@pytest.mark.parametrize("code", FULL + LIGHT)
def test_each_language_has_every_heading_hint_and_reason(code: str) -> None:
    book = lexicon().phrasebooks[code]
    assert set(HEADINGS) <= book.headings.keys()
    assert set(LINT_RULES) <= book.lint.keys()
    assert set(CHANGES) <= book.changes.keys()


@pytest.mark.parametrize("code", FULL)
def test_each_full_language_has_every_role_format_and_step(code: str) -> None:
    book, english = lexicon().phrasebooks[code], lexicon().phrasebooks["en"]
    assert book.roles.keys() == english.roles.keys()
    assert book.formats.keys() == english.formats.keys()
    assert book.compact.keys() == english.compact.keys()
    assert {k: len(v) for k, v in book.steps.items()} == {
        k: len(v) for k, v in english.steps.items()
    }


@pytest.mark.parametrize("code", FULL)
def test_slots_in_formats_match_english(code: str) -> None:
    book, english = lexicon().phrasebooks[code], lexicon().phrasebooks["en"]
    for key, text in english.formats.items():
        for slot in ("{count}", "{extras}", "{length}"):
            assert (slot in text) == (slot in book.formats[key]), (code, key)


def test_a_language_file_missing_a_lint_message_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strings = tmp_path / "enhance" / "strings"
    strings.mkdir(parents=True)
    (strings / "xx.toml").write_text(
        'name = "X"\nanswer_in = "X."\nmissing_task = "[TASK?]"\n[headings]\nrole = "R"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr("promptready.resources.resources_dir", lambda: tmp_path)
    with pytest.raises(ResourceError, match=r"'xx'.*reinstall"):
        load_phrasebook("xx", TASKS)
