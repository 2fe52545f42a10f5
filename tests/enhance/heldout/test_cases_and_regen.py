"""The golden tooling: cases load exactly as pasted, bad labels fail loudly, regen pins output."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptready.enhance import OutputFormat, enhance
from tests.enhance.heldout.cases import CaseError, load_cases
from tests.enhance.heldout.regen import regenerate


def write_case(root: Path, name: str, toml: str, text: bytes) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "case.toml").write_text(toml, encoding="utf-8")
    (folder / "input.txt").write_bytes(text)
    return folder


LABELS = 'task = "debug"\nlanguage = "en"\nnote = "an error to fix"\n'


def test_input_is_read_as_exact_bytes_keeping_crlf_and_no_trailing_newline(tmp_path: Path) -> None:
    write_case(tmp_path, "001-crlf", LABELS, b"fix this:\r\nKeyError: 'x'")
    (case,) = load_cases(tmp_path)
    assert case.input == "fix this:\r\nKeyError: 'x'"


def test_a_misspelt_key_is_rejected_naming_the_folder(tmp_path: Path) -> None:
    write_case(tmp_path, "001-typo", LABELS + 'must_kep = ["x"]\n', b"x")
    with pytest.raises(CaseError, match="001-typo"):
        load_cases(tmp_path)


def test_an_unknown_task_is_rejected(tmp_path: Path) -> None:
    write_case(tmp_path, "001-task", LABELS.replace("debug", "debugging"), b"x")
    with pytest.raises(CaseError, match="debugging"):
        load_cases(tmp_path)


def test_regen_writes_the_current_output_then_reports_it_unchanged(tmp_path: Path) -> None:
    write_case(tmp_path, "001-q", LABELS, b"why does my build fail with exit code 137")
    cases = load_cases(tmp_path)

    first = regenerate(cases, [OutputFormat.MARKDOWN])
    second = regenerate(cases, [OutputFormat.MARKDOWN])

    assert [o.status for o in first] == ["new"]
    assert [o.status for o in second] == ["same"]
    assert first[0].path.read_text(encoding="utf-8") == enhance(cases[0].input).text


def test_regen_reports_a_stale_file_as_changed_and_rewrites_it(tmp_path: Path) -> None:
    folder = write_case(tmp_path, "001-q", LABELS, b"what is a race condition")
    (folder / "expected.md").write_text("stale", encoding="utf-8")

    (outcome,) = regenerate(load_cases(tmp_path), [OutputFormat.MARKDOWN])

    assert outcome.status == "changed"
    assert (folder / "expected.md").read_text(encoding="utf-8") != "stale"
