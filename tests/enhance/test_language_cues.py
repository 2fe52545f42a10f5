"""Task cues in Japanese, Chinese, Russian, Polish and Turkish: each blind-labelled case of
tests/enhance/cues/ gets its task and its language, and every line the enhancer adds to it is
written in that language, in every output format."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptready.enhance import OutputFormat, enhance
from tests.enhance.added_language import languages_added
from tests.enhance.labelled_sets import FILES, Labelled, load_set

CUE_SETS = [name for name in FILES if name.startswith("cues-")]
CASES = [case for name in CUE_SETS for case in load_set(name)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_request_in_a_newer_language_gets_its_task(case: Labelled) -> None:
    assert enhance(case.text).analysis.task.value == case.label


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_request_in_a_newer_language_is_read_as_that_language(case: Labelled) -> None:
    assert enhance(case.text).analysis.language == case.language


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(CASES), st.sampled_from(list(OutputFormat)))
def test_every_added_line_is_in_the_requests_language(case: Labelled, fmt: OutputFormat) -> None:
    result = enhance(case.text, fmt)
    assert languages_added(case.text, result) <= {case.language}


def test_a_malformed_case_line_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"label": "code", "lang": "ja", "text": "x"}\n{"label": "code"}\n', "utf-8")
    monkeypatch.setitem(FILES, "cues-ja", broken)
    with pytest.raises(ValueError, match=r"broken\.jsonl line 2"):
        load_set("cues-ja")
