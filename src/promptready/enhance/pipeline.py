"""The offline enhancer, step by step: normalize → split request from material → detect the
language, task and slots → lint → choose the task's sections → fill what the text supports →
render. Every sentence of the input appears in the output, unchanged."""

from __future__ import annotations

import re

from promptready.enhance.blocks import (
    Block,
    content_kind,
    normalize,
    split_blocks,
)
from promptready.enhance.language import detect_language
from promptready.enhance.lexicon import Template, lexicon
from promptready.enhance.lint import MAX_SHOWN, lint, quality
from promptready.enhance.model import (
    Analysis,
    Change,
    ContentKind,
    Enhancement,
    OutputFormat,
    Slots,
)
from promptready.enhance.render import Section, fence, is_own_output, render
from promptready.enhance.request import request_and_material
from promptready.enhance.slots import extract_slots
from promptready.enhance.task import cue_text, detect_task

_SENTENCES = re.compile(r"(?<=[.!?])[ \t]+|\n+")
# Slots whose absence is worth a visible placeholder, and the hint that goes with it.
_PLACEHOLDER_HINTS = {
    "audience": "Who will read it?",
    "tone": "For example: friendly, formal, firm.",
    "length": "For example: about 150 words, or 5 bullet points.",
}


def enhance(text: str, fmt: OutputFormat = OutputFormat.MARKDOWN) -> Enhancement:
    """Turn rough text into a structured prompt; InputError for text that cannot be used."""
    clean = normalize(text)
    blocks = split_blocks(clean)
    request, material = request_and_material(blocks)
    request_text = "\n\n".join(b.text for b in request)
    cues = cue_text(request)
    prose = [b.text for b in material if b.kind is ContentKind.PROSE and not b.fenced]
    language = detect_language("\n\n".join([request_text, *prose]) if request_text else clean)
    task, confidence = detect_task(cues, material)
    if is_own_output(clean):
        analysis = Analysis(task, confidence, content_kind(blocks), language, already_enhanced=True)
        return Enhancement(text=clean, format=fmt, analysis=analysis)

    slots = extract_slots(request_text)
    hits, steps = lint(request_text, cues, material, task, slots)
    template = lexicon().templates[task]
    sections, changes = _sections(template, request_text, steps, material, slots)
    analysis = Analysis(
        task=task,
        confidence=confidence,
        content=content_kind(blocks),
        language=language,
        slots=slots,
        lint=tuple(hits[:MAX_SHOWN]),
        quality=quality(hits),
    )
    return Enhancement(render(sections, fmt, language), fmt, analysis, tuple(changes))


def _task_body(request_text: str, steps: list[str], material: list[Block]) -> str:
    if not request_text:
        return "[TASK?] Say what to do with the material below."
    if steps:
        parts = [p.strip() for p in _SENTENCES.split(request_text) if p.strip()]
        return "\n".join(f"{i}. {part}" for i, part in enumerate(parts, 1))
    return request_text


def _sections(
    template: Template, request_text: str, steps: list[str], material: list[Block], slots: Slots
) -> tuple[list[Section], list[Change]]:
    guidance = lexicon().guidance
    sections: list[Section] = []
    changes: list[Change] = []
    short_ask = len(request_text.split()) <= 12 and not material
    keys = list(template.sections)
    if "input" not in keys:
        # Every task keeps what was pasted: a question about a recipe still shows the recipe.
        keys.insert(keys.index("task") + 1 if "task" in keys else len(keys), "input")
    for key in keys:
        if key == "role":
            sections.append(Section(key, template.role))
            changes.append(Change("role", "A role sets the expertise and standard to answer with."))
        elif key == "task":
            sections.append(Section(key, _task_body(request_text, steps, material)))
            if steps:
                changes.append(Change("task", "Several tasks were asked for: numbered as steps."))
        elif key == "input" and material:
            sections.append(Section(key, "\n\n".join(fence(b) for b in material)))
            changes.append(
                Change(
                    "input",
                    "Pasted material is fenced off so it is read as data, not as instructions.",
                )
            )
        elif key == "steps" and template.steps and not short_ask:
            body = "\n".join(f"{i}. {step}" for i, step in enumerate(template.steps, 1))
            sections.append(Section(key, body))
            changes.append(
                Change("steps", "Steps make the model work through the problem in order.")
            )
        elif key == "context" and len(request_text.split()) < 25 and not material:
            sections.append(Section(key, guidance["context"]))
            changes.append(
                Change("context", "The request gives little background: a placeholder marks it.")
            )
        elif key in _PLACEHOLDER_HINTS and key in template.needs and getattr(slots, key) is None:
            sections.append(Section(key, f"{guidance[key]} {_PLACEHOLDER_HINTS[key]}"))
            changes.append(
                Change(key, f"The text does not say the {key}: fill in the placeholder.")
            )
        elif key == "format" and slots.format is None:
            sections.append(Section(key, template.format))
            changes.append(
                Change("format", "No output format was given: a default for this task was added.")
            )
    return sections, changes
