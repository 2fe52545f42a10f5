"""The offline enhancer: pure, deterministic rules that turn rough text into a structured prompt.

No Qt, no network, no disk writes; lexicons and templates are read from ``resources/enhance/``.
"""

from promptready.enhance.model import (
    Analysis,
    Change,
    ContentKind,
    Enhancement,
    LintHit,
    OutputFormat,
    Severity,
    Slots,
    TaskType,
    Touch,
)
from promptready.enhance.pipeline import enhance
from promptready.enhance.render import strip_unfilled

__all__ = [
    "Analysis",
    "Change",
    "ContentKind",
    "Enhancement",
    "LintHit",
    "OutputFormat",
    "Severity",
    "Slots",
    "TaskType",
    "Touch",
    "enhance",
    "strip_unfilled",
]
