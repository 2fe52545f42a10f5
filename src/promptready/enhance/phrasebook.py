"""Every sentence the enhancer adds, per language, read from ``resources/enhance/strings/``.

A language with roles, formats and steps gets full templates; one with only headings, hints and
reasons gets the light layout plus a sentence naming the language to answer in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from promptready.errors import ResourceError
from promptready.resources import read_toml, resources_dir

# Keys each file must hold, so a prompt never falls back to English half-way through.
HEADINGS = ("role", "task", "steps", "input", "format", "fill_in")
LINT_RULES = (
    "no-task-verb",
    "material-only",
    "vague-objective",
    "dangling-reference",
    "unresolved-placeholder",
    "injection-in-material",
    "conflicting-length",
    "several-tasks",
    "no-output-format",
    "unbounded-length",
    "unsure-task",
    "not-a-prompt",
)
CHANGES = (
    "role",
    "parts",
    "input",
    "steps",
    "format",
    "format_ask",
    "fill_in",
    "light",
    "answer_in",
)
FORMATS = (
    "default_count",
    "list",
    "list_count",
    "per_item",
    "sized",
    "parts",
    "code_review_explain",
)


@dataclass(frozen=True)
class Phrasebook:
    """The added text of one language."""

    code: str  # ISO 639-1
    name: str  # the language's own name for itself
    answer_in: str
    missing_task: str
    headings: dict[str, str]
    lint: dict[str, str]
    changes: dict[str, str]
    placeholders: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    compact: dict[str, str] = field(default_factory=dict)  # formats for one-line asks
    steps: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def full(self) -> bool:
        """Whether this language has full templates (roles, formats, steps)."""
        return bool(self.roles)

    def added_strings(self) -> list[str]:
        """Every sentence this phrasebook can add to a prompt (for checks and the benchmark)."""
        found = [self.answer_in, self.missing_task, *self.headings.values()]
        found += [*self.placeholders.values(), *self.roles.values(), *self.formats.values()]
        found += self.compact.values()
        return found + [s for steps in self.steps.values() for s in steps]


def _needs(raw: dict[str, Any], code: str, table: str, keys: tuple[str, ...]) -> dict[str, str]:
    values = raw.get(table)
    if not isinstance(values, dict) or any(not isinstance(values.get(k), str) for k in keys):
        missing = [k for k in keys if not isinstance(values, dict) or k not in values]
        raise ResourceError(
            f"enhance strings for {code!r}: [{table}] lacks {missing}; reinstall the app."
        )
    return {k: str(v) for k, v in values.items()}


def load_phrasebook(code: str, tasks: tuple[str, ...]) -> Phrasebook:
    """One language's strings, checked for completeness (``tasks``: the template names)."""
    raw = read_toml(f"enhance/strings/{code}.toml")
    top = {k: raw.get(k) for k in ("name", "answer_in", "missing_task")}
    if any(not isinstance(v, str) for v in top.values()):
        raise ResourceError(
            f"enhance strings for {code!r} need name, answer_in and missing_task;"
            " reinstall the app."
        )
    book = Phrasebook(
        code=code,
        name=str(top["name"]),
        answer_in=str(top["answer_in"]),
        missing_task=str(top["missing_task"]),
        headings=_needs(raw, code, "headings", HEADINGS),
        lint=_needs(raw, code, "lint", LINT_RULES),
        changes=_needs(raw, code, "changes", CHANGES),
    )
    if "roles" not in raw:
        return book
    steps = raw.get("steps")
    if not isinstance(steps, dict):
        raise ResourceError(f"enhance strings for {code!r}: [steps] is missing; reinstall the app.")
    return replace(
        book,
        placeholders=_needs(raw, code, "placeholders", ("audience", "tone")),
        roles=_needs(raw, code, "roles", (*tasks, "code_review_explain")),
        formats=_needs(raw, code, "formats", (*tasks, *FORMATS)),
        compact=_needs(raw, code, "compact", (*tasks, "code_review_explain")),
        steps={k: tuple(str(s) for s in v) for k, v in steps.items()},
    )


def available_languages() -> list[str]:
    """Codes of the languages shipped with strings, English first."""
    found = sorted(p.stem for p in (resources_dir() / "enhance" / "strings").glob("*.toml"))
    return sorted(found, key=lambda c: c != "en")
