"""The enhancer's data, read once from resources/enhance/ and compiled into matchers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from promptready.enhance.cues import Cue, CueMatcher, phrases_pattern
from promptready.enhance.model import TaskType
from promptready.enhance.phrasebook import Phrasebook, available_languages, load_phrasebook
from promptready.errors import ResourceError
from promptready.resources import read_toml, resources_dir


@dataclass(frozen=True)
class Template:
    """How one task's prompt is laid out (its sentences live in each language's phrasebook)."""

    sections: tuple[str, ...]
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lexicon:
    """Compiled cues and templates."""

    cues: CueMatcher
    topic_breaks: re.Pattern[str]  # words after which a sentence names its topic, not its ask
    failure: re.Pattern[str]  # error text quoted in the request or pasted material
    modify: re.Pattern[str]  # verbs that ask to change pasted code rather than explain it
    question_openers: re.Pattern[str]  # a sentence opening like this and ending "?" asks a fact
    requests: re.Pattern[str]  # polite "can you ..." forms: a request, not a question
    verbs: frozenset[str]
    vague: re.Pattern[str]
    injection: re.Pattern[str]
    references: re.Pattern[str]
    languages: dict[str, frozenset[str]]
    small_talk: frozenset[str]  # greetings and acknowledgements: not a request on their own
    templates: dict[TaskType, Template]
    phrasebooks: dict[str, Phrasebook]

    def phrasebook(self, language: str) -> Phrasebook:
        """The strings of ``language``, English where none are shipped for it."""
        return self.phrasebooks.get(language, self.phrasebooks["en"])


def _table(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name)
    if not isinstance(value, dict):
        raise ResourceError(f"enhance data: [{name}] is missing; reinstall the app.")
    return value


def _cue_entries(name: str, entry: dict[str, Any]) -> list[tuple[str, Cue]]:
    """One task's cues: phrases and stems (strong, weak) and regexes (strong, weak)."""
    task = TaskType(name)
    return [
        *((p.lower(), Cue(task, True)) for p in entry.get("strong", ())),
        *((p.lower(), Cue(task, False)) for p in entry.get("weak", ())),
        *(("re:" + p, Cue(task, True)) for p in entry.get("patterns", ())),
        *(("re:" + p, Cue(task, False)) for p in entry.get("weak_patterns", ())),
    ]


def _joined(entry: dict[str, Any]) -> dict[str, Any]:
    """A language file's patterns as one alternation per strength: one scan of the text each
    instead of one per pattern (a hundred CJK patterns otherwise cost 10% of an enhance)."""
    out = dict(entry)
    for key in ("patterns", "weak_patterns"):
        if entry.get(key):
            out[key] = ["(?:" + "|".join(entry[key]) + ")"]
    return out


def _language_cue_tables() -> list[dict[str, Any]]:
    """The per-language cue files (enhance/cues/<lang>.toml): task name -> cue lists."""
    folder = resources_dir() / "enhance" / "cues"
    return [read_toml(f"enhance/cues/{p.name}") for p in sorted(folder.glob("*.toml"))]


@cache
def lexicon() -> Lexicon:
    """The compiled lexicon (built on first use, then shared)."""
    raw = read_toml("enhance/lexicon.toml")
    layout = read_toml("enhance/templates.toml")
    tasks = _table(raw, "tasks")
    rules = _table(raw, "rules")
    try:
        entries = [e for name, entry in tasks.items() for e in _cue_entries(name, entry)]
        for extra in _language_cue_tables():
            entries += [
                e for name, entry in extra.items() for e in _cue_entries(name, _joined(entry))
            ]
        cues = CueMatcher(entries)
        matchers = {
            key: phrases_pattern(rules[key])
            for key in ("topic_breaks", "modify", "question_openers", "requests")
        }
        failure = re.compile("|".join(rules["failure"]), re.IGNORECASE)
        templates = {
            TaskType(t): Template(sections=tuple(v["sections"]), needs=tuple(v.get("needs", ())))
            for t, v in _table(layout, "tasks").items()
        }
        names = tuple(t.value for t in TaskType)
        phrasebooks = {code: load_phrasebook(code, names) for code in available_languages()}
    except (KeyError, ValueError, TypeError, re.error) as exc:
        raise ResourceError(f"enhance data is invalid ({exc}); reinstall the app.") from None
    return Lexicon(
        cues=cues,
        topic_breaks=matchers["topic_breaks"],
        failure=failure,
        modify=matchers["modify"],
        question_openers=matchers["question_openers"],
        requests=matchers["requests"],
        verbs=frozenset(_table(raw, "verbs")["words"]),
        vague=phrases_pattern(_table(raw, "vague")["phrases"]),
        injection=phrases_pattern(_table(raw, "injection")["phrases"]),
        references=phrases_pattern(_table(raw, "references")["phrases"]),
        languages={k: frozenset(v) for k, v in _table(raw, "languages").items()},
        small_talk=frozenset(_table(raw, "small_talk")["words"]),
        templates=templates,
        phrasebooks=phrasebooks,
    )
