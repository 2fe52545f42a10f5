"""Choose and fill the sections of one prompt: the template's layout, in the request's language,
with defaults only where the ask said nothing (a stated count, list, length or several parts
shape the response format instead), and at most two optional fill-ins for facts really missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from promptready.enhance.ask import Ask
from promptready.enhance.blocks import Block
from promptready.enhance.lexicon import Template, lexicon
from promptready.enhance.model import Change, Slots, TaskType, Touch
from promptready.enhance.phrasebook import Phrasebook
from promptready.enhance.render import Section, fence
from promptready.enhance.slots import reader_named

MAX_FILL_INS = 2
_SHORT_ASK_WORDS = 12
# A one-line ask this short with nothing pasted gets the compact layout: the task and its
# response format, no role or steps (they would make a 60-character ask five times longer).
COMPACT_CHARS = 120
# Tasks whose default format is a shape that a listed deliverable replaces.
_LIST_SHAPED = (TaskType.SUMMARIZE, TaskType.DATA_ANALYSIS, TaskType.WRITING, TaskType.QUESTION)
_TOKEN = re.compile(r"\[[A-Z][A-Z0-9 _/-]*\?\]")  # the part of a fill-in the popup replaces
# Asks to rework a text the user gives: it already has its reader.
_EDIT = re.compile(
    r"\b(?:shorten|rewrite|rephrase|reword|proofread|polish|correct|edit|improve|tighten|"
    r"simplify|fix the|make (?:it|this)|kürze|umschreib\w*|korrigier\w*|verbesser\w*|"
    r"raccourcis|réécris|corrige|acorta|reescrib\w*|corrig\w*|encurt\w*|reescrev\w*|"
    r"accorcia|riscriv\w*|correggi|verkort|herschrijf|verbeter)\b"
)
# Tasks whose default format fixes a size that a stated length replaces.
_SIZED = (TaskType.SUMMARIZE, TaskType.QUESTION)


@dataclass(frozen=True)
class Request:
    """What the pipeline understood, as composing needs it."""

    text: str
    material: list[Block]
    task: TaskType
    slots: Slots
    ask: Ask
    touch: Touch
    language: str
    reply: bool  # a message was pasted to be answered: its sender is the reader


def compose(request: Request) -> tuple[list[Section], list[Change], tuple[str, ...]]:
    """The sections, why each is there, and the placeholders added."""
    book = lexicon().phrasebook(request.language)
    if request.touch is Touch.LIGHT or not book.full:
        return _light(request, book)
    template = lexicon().templates[request.task]
    sections: list[Section] = []
    changes: list[Change] = []
    placeholders: tuple[str, ...] = ()
    short_ask = len(request.text.split()) <= _SHORT_ASK_WORDS and not request.material
    compact = len(request.text) < COMPACT_CHARS and not request.material
    for key in template.sections:
        if key == "role" and not compact:
            variant = "code_review_explain" if request.ask.explain else request.task.value
            sections.append(Section(key, book.roles[variant]))
            changes.append(Change(key, book.changes["role"]))
        elif key == "task":
            sections.append(Section(key, _task_body(request, book)))
            if request.ask.parts:
                changes.append(Change(key, book.changes["parts"]))
        elif key == "input" and request.material:
            sections.append(_input(request.material))
            changes.append(Change(key, book.changes["input"]))
        elif key == "steps" and request.task.value in book.steps and not (short_ask or compact):
            steps = book.steps[request.task.value]
            sections.append(Section(key, "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))))
            changes.append(Change(key, book.changes["steps"]))
        elif key == "format":
            chosen = response_format(request, book, compact=compact)
            if chosen is not None:
                sections.append(Section(key, chosen[0]))
                changes.append(Change(key, book.changes[chosen[1]]))
        elif key == "fill_in":
            placeholders = _missing(request, template, book)
            if placeholders:
                body = "\n".join(f"- {book.placeholders[k]}" for k in placeholders)
                sections.append(Section(key, body))
                changes.append(Change(key, book.changes["fill_in"]))
    tokens = tuple(_token(book.placeholders[k]) for k in placeholders)
    return sections, changes, (("[TASK?]",) if not request.text else ()) + tokens


def _token(fill_in: str) -> str:
    found = _TOKEN.search(fill_in)
    return found.group() if found else fill_in


def _light(
    request: Request, book: Phrasebook
) -> tuple[list[Section], list[Change], tuple[str, ...]]:
    """Only the ask and the fenced material (and, in a language without full templates, the
    sentence naming the language to answer in)."""
    sections = [Section("task", _task_body(request, book))]
    changes = [Change("task", book.changes["light"])] if request.touch is Touch.LIGHT else []
    if request.material:
        sections.append(_input(request.material))
        changes.append(Change("input", book.changes["input"]))
    if _names_answer_language(request, book):
        sections.append(Section("format", book.answer_in))
        changes.append(Change("format", book.changes["answer_in"].format(language=book.name)))
    placeholders = ("[TASK?]",) if not request.text else ()
    return sections, changes, placeholders


def _names_answer_language(request: Request, book: Phrasebook) -> bool:
    """A language without full templates gets "answer in …", unless the ask names another
    output language or is a translation."""
    return (
        not book.full
        and bool(request.text)
        and request.slots.language is None
        and request.task is not TaskType.TRANSLATE
    )


def _input(material: list[Block]) -> Section:
    return Section("input", "\n\n".join(fence(b) for b in material))


def _task_body(request: Request, book: Phrasebook) -> str:
    if not request.text:
        return book.missing_task
    if request.ask.parts:
        return "\n".join(f"{i}. {part}" for i, part in enumerate(request.ask.parts, 1))
    return request.text


def response_format(
    request: Request, book: Phrasebook, *, compact: bool = False
) -> tuple[str, str] | None:
    """The format section's body and the reason key, or None when the ask states its form
    (``compact``: the short wording of a task's default, for one-line asks)."""
    ask, task, slots = request.ask, request.task, request.slots
    formats = {**book.formats, **book.compact} if compact else book.formats
    if len(ask.parts) >= 2:
        return formats["parts"], "format_ask"  # a stated form belongs to one of the parts
    if slots.format is not None:
        return None
    per_item = (" " + formats["per_item"].format(extras=ask.extras)) if ask.extras else ""
    if task is TaskType.BRAINSTORM:
        # "names for a coffee truck": ten of what was asked for, in the user's word.
        count = ask.count or (f"10 {ask.items}" if ask.items else formats["default_count"])
        return formats["brainstorm"].format(count=count) + per_item, _reason(ask, slots)
    if ask.listing and task in _LIST_SHAPED:
        body = formats["list_count"].format(count=ask.count) if ask.count else formats["list"]
        return body + per_item, "format_ask"
    if slots.length is not None and task in _SIZED:
        return formats["sized"].format(length=slots.length), "format_ask"
    if task is TaskType.CODE_REVIEW and ask.explain:
        return formats["code_review_explain"], "format"
    return formats[task.value], "format"


def _reason(ask: Ask, slots: Slots) -> str:
    return "format_ask" if ask.count or ask.extras or slots.length else "format"


def _missing(request: Request, template: Template, book: Phrasebook) -> tuple[str, ...]:
    """The template's needs the text leaves unsaid, at most two."""
    # Pasted text to edit or answer already has its reader; only new text needs one named.
    edits = bool(_EDIT.search(request.text.lower()))
    said = {
        "audience": bool(request.material) or edits or reader_named(request.text, request.slots),
        "tone": request.slots.tone is not None,
    }
    return tuple(k for k in template.needs if not said.get(k, True) and k in book.placeholders)[
        :MAX_FILL_INS
    ]
