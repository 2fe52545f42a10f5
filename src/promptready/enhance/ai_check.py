"""Is an AI answer a rewrite of the user's prompt? Measured against the user's own text and the
offline analysis: the pasted material (code, logs, data) kept, the names and numbers kept, enough
of the user's words kept, and no sign the model answered the prompt instead of rewriting it.

Pure: the engine calls ``check_rewrite`` once, where it would accept an AI answer; a reason
(one phrase, no trailing full stop) means the offline result is used instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from promptready.enhance.blocks import normalize, split_blocks
from promptready.enhance.lexicon import lexicon
from promptready.enhance.model import Analysis, ContentKind, TaskType

MIN_WORDS_KEPT = 0.34  # share of the user's content words an honest rewrite keeps (stems)
MIN_NAMES_KEPT = 0.5  # share of names, identifiers and links
MIN_MATERIAL_LINES_KEPT = 0.8  # share of each pasted block's lines, as written

_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*")
_LINK = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+")
# Identifiers (snake_case, CamelCase, dotted.names, file.ext) and capitalised names that do not
# start a sentence: what a rewrite must not rename.
_IDENTIFIER = re.compile(r"\b(?:\w+_\w+|[a-z]+[A-Z]\w*|[A-Z][a-z]+[A-Z]\w*|\w+\.\w{1,8})\b")
_NAME = re.compile(r"(?<=[^\s.!?:\n] )[A-Z][\w'-]+")  # capitalised, not opening a sentence
_ANSWER_OPENER = re.compile(
    r"^\W*(?:sure|certainly|of course|absolutely|great question|happy to help|"
    r"i(?:'d| would) be (?:happy|glad)|i can(?:'t| ?not)? help|as an ai|"
    r"here(?:'s| is| are) (?:a|an|the|your|some)\b(?![^\n]*\bprompt\b))",
    re.IGNORECASE,
)
_GREETING = re.compile(r"^\W*(?:dear|hi|hello|hey)\b[^\n]{0,40},\s*$", re.IGNORECASE | re.MULTILINE)
_FENCE = re.compile(r"^```", re.MULTILINE)
_FUNCTION_WORDS = (
    "about after again all also am an any are as at be been but by can could did do does "
    "from had has have he her him his i if in into its just me more most no not now on one "
    "only or our out over she so some such than their them then there these they too us "
    "very was we were when where which who why will would you your"
)


@dataclass(frozen=True)
class Measures:
    """How much of the user's text an answer kept (each share 0.0-1.0; None: nothing to keep)."""

    words: float | None
    names: float | None
    missing_numbers: tuple[str, ...]
    material: float | None


@cache
def _stopwords() -> frozenset[str]:
    words: set[str] = set(_FUNCTION_WORDS.split())
    for common in lexicon().languages.values():
        words |= common
    return frozenset(words | lexicon().verbs)


def _stem(word: str) -> str:
    word = word.lower().strip("'-")
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word.removesuffix("e")  # rename, renames, renamed: one stem


def _content_stems(text: str) -> set[str]:
    stop = _stopwords()
    return {_stem(w) for w in _WORD.findall(text) if len(w) > 2 and w.lower() not in stop}


def _share(wanted: set[str], found: set[str]) -> float | None:
    return len(wanted & found) / len(wanted) if wanted else None


def _names(text: str) -> set[str]:
    found = {m.lower().rstrip(".,;:)") for m in _LINK.findall(text)}
    found |= {m.lower() for m in _IDENTIFIER.findall(text)}
    found |= {m.lower() for m in _NAME.findall(text) if m.lower() not in _stopwords()}
    return found


def _material_lines(text: str) -> list[set[str]]:
    """The non-blank lines of each block the user pasted (not the prose they wrote)."""
    return [
        {line.strip() for line in block.text.split("\n") if line.strip()}
        for block in split_blocks(normalize(text))
        if block.kind is not ContentKind.PROSE
    ]


def measure(original: str, answer: str) -> Measures:
    """What of ``original`` survives in ``answer``."""
    answer_lower = answer.lower()
    answer_lines = {line.strip() for line in answer.split("\n")}
    names = _names(original)
    blocks = _material_lines(original)
    kept_lines = [len(lines & answer_lines) / len(lines) for lines in blocks if lines]
    numbers = tuple(dict.fromkeys(_NUMBER.findall(original)))
    return Measures(
        words=_share(_content_stems(original), _content_stems(answer)),
        names=(sum(1 for n in names if n in answer_lower) / len(names) if names else None),
        missing_numbers=tuple(n for n in numbers if n not in answer),
        material=min(kept_lines) if kept_lines else None,
    )


def answered_instead(original: str, answer: str, analysis: Analysis) -> str | None:
    """Why ``answer`` looks like a reply to the prompt rather than the prompt rewritten."""
    if _ANSWER_OPENER.search(answer):
        return "the model answered the prompt instead of rewriting it"
    if analysis.task is TaskType.EMAIL and _GREETING.search(answer[:200]):
        return "the model wrote the message itself instead of a prompt for it"
    code_task = analysis.task in (TaskType.CODE, TaskType.DEBUG)
    if code_task and len(_FENCE.findall(answer)) > len(_FENCE.findall(original)):
        return "the model wrote the code instead of a prompt for it"
    return None


def check_rewrite(original: str, answer: str, analysis: Analysis) -> str | None:
    """None when ``answer`` is a faithful rewrite of ``original``; otherwise the reason."""
    answered = answered_instead(original, answer, analysis)
    if answered is not None:
        return answered
    kept = measure(original, answer)
    if kept.material is not None and kept.material < MIN_MATERIAL_LINES_KEPT:
        return "the AI answer left out part of the text you pasted"
    if kept.missing_numbers:
        shown = ", ".join(kept.missing_numbers[:3])
        return f"the AI answer dropped numbers from your text ({shown})"
    if kept.names is not None and kept.names < MIN_NAMES_KEPT:
        return "the AI answer dropped names from your text"
    if kept.words is not None and kept.words < MIN_WORDS_KEPT:
        return "the AI answer kept too little of what you wrote"
    return None
