"""Plain data the offline enhancer takes and returns (no behaviour beyond serialisation)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class OutputFormat(StrEnum):
    MARKDOWN = "markdown"
    TEXT = "text"
    XML = "xml"


class TaskType(StrEnum):
    CODE = "code"  # write code
    DEBUG = "debug"  # fix an error
    CODE_REVIEW = "code_review"  # review or explain code
    WRITING = "writing"
    SUMMARIZE = "summarize"
    TRANSLATE = "translate"
    DATA_ANALYSIS = "data_analysis"
    BRAINSTORM = "brainstorm"
    EMAIL = "email"  # emails and messages
    QUESTION = "question"  # a factual question


class ContentKind(StrEnum):
    PROSE = "prose"
    CODE = "code"
    LOGS = "logs"
    JSON = "json"
    DIFF = "diff"
    DATA = "data"  # CSV, TSV or other tabular data
    MIXED = "mixed"


class Touch(StrEnum):
    """How much the enhancer added: a full template, a light layout, or nothing."""

    FULL = "full"  # role, task, material, steps, format, fill-ins
    LIGHT = "light"  # the task was unclear: only the ask and the fenced material
    NONE = "none"  # not a request (or our own output): returned as it is


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class LintHit:
    """One rule that fired: a stable id (e.g. ``"no-output-format"``), how bad, and what to do."""

    rule: str
    severity: Severity
    message: str


@dataclass(frozen=True)
class Change:
    """Why one section of the output exists: what was added or restructured, and the reason."""

    section: str
    reason: str


@dataclass(frozen=True)
class Slots:
    """What the user already said; ``None`` / empty means the text did not say it."""

    goal: str | None = None
    audience: str | None = None
    tone: str | None = None
    length: str | None = None
    format: str | None = None
    language: str | None = None  # the output language asked for, not the input's language
    constraints: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()

    def found(self) -> list[str]:
        """Names of the slots the text filled."""
        return [name for name, value in asdict(self).items() if value not in (None, (), [], "")]


@dataclass(frozen=True)
class Analysis:
    """What the enhancer understood about the input."""

    task: TaskType
    confidence: float  # 0.0-1.0, from how clearly the task cues won
    content: ContentKind
    language: str  # ISO 639-1 code of the input's language, e.g. "en", "de"
    slots: Slots = field(default_factory=Slots)
    lint: tuple[LintHit, ...] = ()  # at most 5, most severe first
    quality: int = 100  # 0-100: how ready the request was, from what it left unsaid
    already_enhanced: bool = False  # the input was our own output: returned unchanged
    touch: Touch = Touch.FULL
    placeholders: tuple[str, ...] = ()  # the optional fill-ins added, e.g. "[AUDIENCE?]"


@dataclass(frozen=True)
class Enhancement:
    """The enhanced prompt and the why of it."""

    text: str
    format: OutputFormat
    analysis: Analysis
    changes: tuple[Change, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (enums as their values) used by ``--json`` and the gateway."""
        return asdict(self)
