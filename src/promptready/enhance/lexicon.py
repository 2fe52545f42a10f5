"""The enhancer's data, read once from resources/enhance/ and compiled into matchers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from promptready.enhance.model import TaskType
from promptready.errors import ResourceError
from promptready.resources import read_toml


@dataclass(frozen=True)
class Template:
    """How one task's prompt is laid out."""

    role: str
    sections: tuple[str, ...]
    format: str
    steps: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lexicon:
    """Compiled cues and templates."""

    cues: re.Pattern[str]  # every task phrase, one alternation: one pass over the text
    cue_table: dict[str, tuple[tuple[TaskType, bool], ...]]  # phrase -> (task, strong?)
    verbs: frozenset[str]
    vague: re.Pattern[str]
    injection: re.Pattern[str]
    references: re.Pattern[str]
    languages: dict[str, frozenset[str]]
    headings: dict[str, dict[str, str]]
    templates: dict[TaskType, Template]
    guidance: dict[str, str]


def phrases_pattern(phrases: list[str]) -> re.Pattern[str]:
    """One regex matching any phrase on word boundaries (longest first)."""
    ordered = sorted({p.lower() for p in phrases}, key=len, reverse=True)
    alternatives = "|".join(re.escape(p) for p in ordered)
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])")


def _table(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name)
    if not isinstance(value, dict):
        raise ResourceError(f"enhance data: [{name}] is missing; reinstall the app.")
    return value


@cache
def lexicon() -> Lexicon:
    """The compiled lexicon (built on first use, then shared)."""
    raw = read_toml("enhance/lexicon.toml")
    layout = read_toml("enhance/templates.toml")
    tasks = _table(raw, "tasks")
    try:
        table: dict[str, list[tuple[TaskType, bool]]] = {}
        for name, entry in tasks.items():
            for strong, key in ((True, "strong"), (False, "weak")):
                for phrase in entry[key]:
                    table.setdefault(phrase.lower(), []).append((TaskType(name), strong))
        templates = {
            TaskType(t): Template(
                role=v["role"],
                sections=tuple(v["sections"]),
                format=v["format"],
                steps=tuple(v.get("steps", ())),
                needs=tuple(v.get("needs", ())),
            )
            for t, v in _table(layout, "tasks").items()
        }
    except (KeyError, ValueError, TypeError) as exc:
        raise ResourceError(f"enhance data is invalid ({exc}); reinstall the app.") from None
    return Lexicon(
        cues=phrases_pattern(list(table)),
        cue_table={phrase: tuple(hits) for phrase, hits in table.items()},
        verbs=frozenset(_table(raw, "verbs")["words"]),
        vague=phrases_pattern(_table(raw, "vague")["phrases"]),
        injection=phrases_pattern(_table(raw, "injection")["phrases"]),
        references=phrases_pattern(_table(raw, "references")["phrases"]),
        languages={k: frozenset(v) for k, v in _table(raw, "languages").items()},
        headings=_table(layout, "headings"),
        templates=templates,
        guidance=_table(layout, "guidance"),
    )
