"""The blind labelled sets kept as JSON lines (one case a line: label, lang, text): non-prompts,
near-miss prompts that look like them, and per-language task-cue sets for ja/zh/ru/pl/tr.

Each was written before its author read how the enhancer decides; ``UNTOUCHED`` keeps the score
each had when first run, before any change was made for it. Free of ``promptready`` imports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_A_PROMPT = "not_a_prompt"
# set name -> file; "nonprompt" and "nearmiss" are scored as a pair, the rest as task sets.
FILES = {
    "nonprompt": HERE / "nonprompt" / "cases.jsonl",
    "nearmiss": HERE / "nonprompt" / "near_misses.jsonl",
    **{f"cues-{lang}": HERE / "cues" / f"{lang}.jsonl" for lang in ("ja", "zh", "ru", "pl", "tr")},
}
# Accuracy of each set at its first run, on the enhancer of commit 2398757 (nothing changed yet).
UNTOUCHED = {
    "nonprompt": 0.675,
    "nearmiss": 0.667,
    "cues-ja": 0.367,
    "cues-zh": 0.40,
    "cues-ru": 0.467,
    "cues-pl": 0.467,
    "cues-tr": 0.567,
}


@dataclass(frozen=True)
class Labelled:
    """One labelled text: a task name (or ``not_a_prompt``) and the language it is written in."""

    id: str
    label: str
    language: str
    text: str


def load_set(name: str) -> list[Labelled]:
    """Every case of one named set, ids ``<set>/<line number>``; ValueError names a bad line."""
    cases = []
    lines = FILES[name].read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        try:
            raw = json.loads(line)
            cases.append(Labelled(f"{name}/{number}", raw["label"], raw["lang"], raw["text"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{FILES[name].name} line {number}: {exc}") from exc
    return cases


def load_sets() -> dict[str, list[Labelled]]:
    """Every JSON-lines set, by name."""
    return {name: load_set(name) for name in FILES}


def verdict(task: str, rules: tuple[str, ...], text: str) -> str:
    """What an enhancement (its task, lint rule ids, text) said the input was: not a prompt
    when the not-a-prompt lint fired or the output asks for the task (``[TASK?]``), else the
    task."""
    if "not-a-prompt" in rules or "[TASK?]" in text:
        return NOT_A_PROMPT
    return task
