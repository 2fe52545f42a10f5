"""How ready a request is to send, 0-100, from what is still missing after enhancement: facts
only the user can give (context, the reader, a clear task) weigh most; a default the enhancer
could add (format, length) weighs little. A one-line ask that names no reader, no form and no
context never scores high, however clean its wording."""

from __future__ import annotations

from promptready.enhance.lint import NEEDS_FORMAT, NEEDS_LENGTH
from promptready.enhance.model import LintHit, Severity, Slots, TaskType, Touch

_CONTEXT_WORDS = 25  # a request this long carries some background of its own
_ONE_LINER_WORDS = 20
_ONE_LINER_CAP = 40
_READER_MATTERS = (TaskType.WRITING, TaskType.EMAIL, TaskType.SUMMARIZE, TaskType.BRAINSTORM)
_PENALTY = {
    "unclear": 35,
    "context": 25,
    "audience": 20,
    "warning": 10,
    "format": 5,
    "length": 5,
}


def readiness(
    request: str,
    has_material: bool,
    task: TaskType,
    slots: Slots,
    hits: list[LintHit],
    *,
    touch: Touch,
    shaped: bool,
    bounded: bool,
) -> int:
    """The score (``shaped``: the ask states a form or a list; ``bounded``: a length or count)."""
    if touch is Touch.NONE:
        return 0
    words = len(request.split())
    missing = {
        "unclear": touch is Touch.LIGHT or not request.strip(),
        "context": not has_material and words < _CONTEXT_WORDS,
        "audience": slots.audience is None and task in _READER_MATTERS,
        "format": not shaped and task in NEEDS_FORMAT,
        "length": not bounded and task in NEEDS_LENGTH,
    }
    score = 100 - sum(_PENALTY[k] for k, gone in missing.items() if gone)
    score -= _PENALTY["warning"] * sum(h.severity is not Severity.INFO for h in hits)
    one_liner = "\n" not in request.strip() and words < _ONE_LINER_WORDS
    if one_liner and missing["context"] and slots.audience is None and not shaped:
        score = min(score, _ONE_LINER_CAP)
    return max(0, score)
