"""The golden suite: task accuracy over realistic prompts, words kept, output pinned, idempotent."""

from __future__ import annotations

import pytest

from promptready.enhance import OutputFormat, enhance
from tests.enhance.golden.cases import GoldenCase, load_cases

CASES = load_cases()
IDS = [c.id for c in CASES]


def test_there_are_at_least_60_cases_covering_every_task() -> None:
    assert len(CASES) >= 60
    tasks = {c.task for c in CASES}
    assert len(tasks) == 10
    assert all(sum(c.task == t for c in CASES) >= 6 for t in tasks)
    assert sum(c.language != "en" for c in CASES) >= 10


def test_task_accuracy_is_at_least_90_percent() -> None:
    misses = [
        f"{c.id}: expected {c.task}, got {enhance(c.input).analysis.task.value}"
        for c in CASES
        if enhance(c.input).analysis.task.value != c.task
    ]
    accuracy = 1 - len(misses) / len(CASES)
    assert accuracy >= 0.9, f"accuracy {accuracy:.0%}; misses:\n" + "\n".join(misses)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_language_is_detected(case: GoldenCase) -> None:
    assert enhance(case.input).analysis.language == case.language


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_protected_text_survives_byte_for_byte(case: GoldenCase) -> None:
    for fmt in OutputFormat:
        out = enhance(case.input, fmt).text
        for kept in case.must_keep:
            assert kept in out, f"{kept!r} lost in {fmt.value}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_output_matches_the_reviewed_expected_file(case: GoldenCase) -> None:
    expected = case.expected_path.read_text(encoding="utf-8")
    assert enhance(case.input).text + "\n" == expected


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_enhancing_the_output_again_changes_nothing(case: GoldenCase) -> None:
    for fmt in OutputFormat:
        once = enhance(case.input, fmt)
        twice = enhance(once.text, fmt)
        assert twice.text == once.text
        assert twice.analysis.already_enhanced
