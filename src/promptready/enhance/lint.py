"""Conservative hints about the request, each with a stable id and a severity.

quality = 100 - 30 per error - 15 per warning - 5 per info (floor 0): computed from the hits only.
"""

from __future__ import annotations

import re

from promptready.enhance.blocks import Block
from promptready.enhance.lexicon import lexicon
from promptready.enhance.model import LintHit, Severity, Slots, TaskType

MAX_SHOWN = 5
_PENALTY = {Severity.ERROR: 30, Severity.WARNING: 15, Severity.INFO: 5}
_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
_PLACEHOLDER = re.compile(
    r"(?<!\{)\{[A-Za-z_][\w ]*\}(?!\})|\[(?:[A-Z_ ]{3,}|insert [^\]]+|your [^\]]+)\]|<[A-Z_]{3,}>|\bTODO\b|\bTBD\b|\bXXX\b"
)
_SHORT = re.compile(r"\b(?:short|brief|concise|one[- ](?:sentence|line))\b")  # on lowercase cues
_LONG = re.compile(r"\b(?:detailed|in[- ]depth|comprehensive|thorough|long)\b")
_NUMBERED_LENGTH = re.compile(r"\b\d+\s*(?:words?|sentences?|paragraphs?|pages?)\b")
_NEEDS_LENGTH = (TaskType.WRITING, TaskType.SUMMARIZE, TaskType.EMAIL, TaskType.BRAINSTORM)


def quality(hits: list[LintHit]) -> int:
    """A score from the rule hits alone."""
    return max(0, 100 - sum(_PENALTY[h.severity] for h in hits))


def task_sentences(request: str) -> list[str]:
    """Sentences of the request that start with a task verb (several of them: several tasks)."""
    verbs = lexicon().verbs
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+|\n+", request) if p.strip()]
    starts = []
    for part in parts:
        first = re.match(r"(?:also |then |and then |and |plus )?([^\W\d_]+)", part.lower())
        if first and first.group(1) in verbs and first.group(1) not in _QUESTION_WORDS:
            starts.append(part)
    return starts


_QUESTION_WORDS = frozenset(
    {
        "is",
        "are",
        "does",
        "do",
        "can",
        "could",
        "should",
        "what",
        "how",
        "why",
        "who",
        "when",
        "where",
        "which",
    }
)


def lint(
    request: str, cues: str, material: list[Block], task: TaskType, slots: Slots
) -> tuple[list[LintHit], list[str]]:
    """All hits (most severe first) and, when several tasks were found, their sentences."""
    lex = lexicon()
    hits: list[LintHit] = []
    words = re.findall(r"[^\W\d_]+", cues)
    if request and not (set(words) & lex.verbs) and "?" not in cues:
        hits.append(
            LintHit(
                "no-task-verb",
                Severity.WARNING,
                "Say what to do with it (write, fix, summarize, explain...).",
            )
        )
    if not request and material:
        hits.append(
            LintHit(
                "no-task-verb",
                Severity.WARNING,
                "Only material was pasted: say what should be done with it.",
            )
        )
    if lex.vague.search(cues) or (request and len(words) < 3 and not material):
        hits.append(
            LintHit(
                "vague-objective",
                Severity.WARNING,
                "The goal is vague: say what a good result looks like.",
            )
        )
    if lex.references.search(cues) and not material:
        hits.append(
            LintHit(
                "dangling-reference",
                Severity.WARNING,
                "The text refers to something not included; paste it in.",
            )
        )
    if _PLACEHOLDER.search(request):
        hits.append(
            LintHit(
                "unresolved-placeholder",
                Severity.WARNING,
                "Fill in the placeholders left in the text.",
            )
        )
    for block in material:
        if lex.injection.search(block.text.lower()):
            hits.append(
                LintHit(
                    "injection-in-material",
                    Severity.WARNING,
                    "The pasted material contains instructions to the model; it is fenced as data.",
                )
            )
            break
    if (_SHORT.search(cues) and _LONG.search(cues)) or len(set(_NUMBERED_LENGTH.findall(cues))) > 1:
        hits.append(
            LintHit(
                "conflicting-length",
                Severity.WARNING,
                "The length asked for is contradictory; pick one.",
            )
        )
    steps = task_sentences(request)
    if len(steps) >= 2:
        hits.append(
            LintHit(
                "several-tasks",
                Severity.INFO,
                "Several tasks in one: they are listed as numbered steps.",
            )
        )
    if slots.format is None and task not in (TaskType.QUESTION, TaskType.TRANSLATE):
        hits.append(
            LintHit(
                "no-output-format",
                Severity.INFO,
                "Say what form the answer should take; a default was added.",
            )
        )
    if slots.length is None and task in _NEEDS_LENGTH:
        hits.append(
            LintHit("unbounded-length", Severity.INFO, "Say how long the result should be.")
        )
    hits.sort(key=lambda h: _ORDER[h.severity])
    return hits, steps if len(steps) >= 2 else []
