"""Conservative hints about the request, each with a stable id, a severity and a message in
the request's language (from its phrasebook)."""

from __future__ import annotations

import re

from promptready.enhance.blocks import Block
from promptready.enhance.lexicon import lexicon
from promptready.enhance.model import LintHit, Severity, TaskType

MAX_SHOWN = 5
_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
_PLACEHOLDER = re.compile(
    r"(?<!\{)\{[A-Za-z_][\w ]*\}(?!\})|\[(?:[A-Z_ ]{3,}|insert [^\]]+|your [^\]]+)\]|<[A-Z_]{3,}>|\bTODO\b|\bTBD\b|\bXXX\b"
)
_SHORT = re.compile(r"\b(?:short|brief|concise|one[- ](?:sentence|line))\b")  # on lowercase cues
_LONG = re.compile(r"\b(?:detailed|in[- ]depth|comprehensive|thorough|long)\b")
_NUMBERED_LENGTH = re.compile(r"\b\d+\s*(?:words?|sentences?|paragraphs?|pages?)\b")
_SPACELESS = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
NEEDS_LENGTH = (TaskType.WRITING, TaskType.SUMMARIZE, TaskType.EMAIL, TaskType.BRAINSTORM)
NEEDS_FORMAT = frozenset(TaskType) - {TaskType.QUESTION, TaskType.TRANSLATE}


def hint(rule: str, severity: Severity, language: str) -> LintHit:
    """One hit with its message in ``language``."""
    return LintHit(rule, severity, lexicon().phrasebook(language).lint[rule])


def lint(
    request: str,
    cues: str,
    material: list[Block],
    task: TaskType,
    *,
    parts: int,
    bounded: bool,
    shaped: bool,
    language: str,
) -> list[LintHit]:
    """All hits, most severe first (``parts``: how many parts the ask has; ``bounded``: it
    states a length or a count; ``shaped``: a format or a list)."""
    lex = lexicon()
    fired: list[tuple[str, Severity]] = []
    words = re.findall(r"[^\W\d_]+", cues)
    # Words of space-less scripts (Japanese, Chinese) cannot be looked up one by one.
    spaced = not _SPACELESS.search(cues)
    if spaced and request and not (set(words) & lex.verbs) and "?" not in cues:
        fired.append(("no-task-verb", Severity.WARNING))
    if not request and material:
        fired.append(("material-only", Severity.WARNING))
    if lex.vague.search(cues) or (spaced and request and len(words) < 3 and not material):
        fired.append(("vague-objective", Severity.WARNING))
    if lex.references.search(cues) and not material:
        fired.append(("dangling-reference", Severity.WARNING))
    if _PLACEHOLDER.search(request):
        fired.append(("unresolved-placeholder", Severity.WARNING))
    if any(lex.injection.search(block.text.lower()) for block in material):
        fired.append(("injection-in-material", Severity.WARNING))
    if (_SHORT.search(cues) and _LONG.search(cues)) or len(set(_NUMBERED_LENGTH.findall(cues))) > 1:
        fired.append(("conflicting-length", Severity.WARNING))
    if parts >= 2:
        fired.append(("several-tasks", Severity.INFO))
    if not shaped and task in NEEDS_FORMAT:
        fired.append(("no-output-format", Severity.INFO))
    if not bounded and task in NEEDS_LENGTH:
        fired.append(("unbounded-length", Severity.INFO))
    fired.sort(key=lambda f: _ORDER[f[1]])
    return [hint(rule, severity, language) for rule, severity in fired]
