"""The learned tie-breaker: small, consulted only where the rules are unsure, cheap on any size."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptready.enhance import TaskType, enhance
from promptready.enhance.pipeline import CONFIDENT
from promptready.enhance.tiebreak import NOT_A_PROMPT, NaiveBayes, grams, shipped, tie_break
from promptready.errors import ResourceError
from promptready.resources import resource_path


def test_the_shipped_model_is_under_5_mb_and_knows_every_task_and_non_prompts() -> None:
    assert resource_path("enhance/tiebreak.json").stat().st_size < 5_000_000
    assert set(shipped().docs) == {t.value for t in TaskType} | {NOT_A_PROMPT}


def test_the_model_reads_no_request_in_a_sign_off() -> None:
    assert tie_break("Saludos,\nCarlos") is None


def test_an_unsure_non_prompt_comes_back_unchanged_with_the_lint() -> None:
    text = "Saludos,\nCarlos"
    result = enhance(text)
    assert result.text == text
    assert [h.rule for h in result.analysis.lint] == ["not-a-prompt"]


def test_a_model_file_naming_an_unknown_label_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "enhance").mkdir()
    body = '{"docs": {"poetry": 1}, "counts": {"poetry": {}}, "vocab": 1}'
    (tmp_path / "enhance" / "tiebreak.json").write_text(body, "utf-8")
    monkeypatch.setattr("promptready.resources.resources_dir", lambda: tmp_path)
    shipped.cache_clear()
    try:
        with pytest.raises(ResourceError, match=r"tie-breaker data is invalid.*reinstall"):
            shipped()
    finally:
        monkeypatch.undo()
        shipped.cache_clear()


def test_an_unsure_guess_takes_the_models_task() -> None:
    result = enhance("capital of australia")
    assert result.analysis.confidence < CONFIDENT
    assert result.analysis.task is tie_break("capital of australia") is TaskType.QUESTION


def test_a_confident_guess_keeps_the_rules_task() -> None:
    text = "write a python script that renames my photos by the date they were taken"
    assert enhance(text).analysis.task is TaskType.CODE


def test_a_model_learns_from_labelled_examples() -> None:
    model = NaiveBayes.train(
        [
            ("fix this crash", "debug"),
            ("why does it crash", "debug"),
            ("a poem about rain", "writing"),
        ]
    )
    assert model.predict("it keeps crashing") == "debug"
    assert model.predict("a short poem") == "writing"


def test_a_megabyte_costs_what_a_page_does() -> None:
    assert grams("word " * 200_000) == grams("word " * 1_000)


def test_a_broken_model_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "enhance").mkdir()
    (tmp_path / "enhance" / "tiebreak.json").write_text('{"docs": {"poetry": 1}}', "utf-8")
    monkeypatch.setattr("promptready.resources.resources_dir", lambda: tmp_path)
    shipped.cache_clear()
    try:
        with pytest.raises(ResourceError, match=r"tie-breaker data is invalid.*reinstall"):
            shipped()
    finally:
        monkeypatch.undo()
        shipped.cache_clear()
