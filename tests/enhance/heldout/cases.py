"""Loading the golden cases, shared by the test, the regen script and the accuracy report.

Each case is a folder ``cases/<NNN-slug>/`` holding ``input.txt`` (exact UTF-8 bytes, as pasted),
``case.toml`` (labels) and, once reviewed, one expected output per format (``expected.md`` ...).
Kept free of ``promptready`` imports so the cases load even while the enhancer does not.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent
CASES_DIR = GOLDEN_DIR / "cases"
# Case sets written blind, each by someone who saw neither the enhancer nor the earlier sets, in
# the order they arrived. Each was the untouched measure until the enhancer was improved on it;
# the last one ("final") has never been tuned on. Same folder layout in each: <set>/cases/.
SUITES = ("heldout", "fresh", "blind", "final", "sealed", "vault", "trove", "cellar", "attic")
# Each set's task accuracy when it was first scored, before any tuning on it (the honest number).
UNTOUCHED = {
    "heldout": 0.636,
    "fresh": 0.483,
    "blind": 0.688,
    "final": 0.83,
    "sealed": 0.72,
    "vault": 0.75,
    "trove": 0.84,
    "cellar": 0.83,
    "attic": 0.83,
}

TASKS = frozenset(
    {
        "code",
        "debug",
        "code_review",
        "writing",
        "summarize",
        "translate",
        "data_analysis",
        "brainstorm",
        "email",
        "question",
    }
)
CONTENT_KINDS = frozenset({"prose", "code", "logs", "json", "diff", "data", "mixed"})
# OutputFormat value -> expected file name; strings, so this module needs no enhancer import.
EXPECTED_FILES = {"markdown": "expected.md", "text": "expected.txt", "xml": "expected.xml"}

_REQUIRED_KEYS = frozenset({"task", "language", "note"})
_KNOWN_KEYS = _REQUIRED_KEYS | {"content", "must_keep"}


class CaseError(ValueError):
    """A case folder is malformed; the message names the folder and the fix."""


@dataclass(frozen=True)
class GoldenCase:
    """A rough prompt, the task a careful human would name, and what must survive."""

    id: str  # the folder name, e.g. "007-code-pt-sql-top-products"
    folder: Path
    input: str
    task: str
    language: str
    note: str
    content: str | None = None
    must_keep: tuple[str, ...] = ()

    def expected_path(self, fmt: str) -> Path:
        """Where the reviewed output for one format (an OutputFormat value) lives."""
        return self.folder / EXPECTED_FILES[fmt]


def load_case(folder: Path) -> GoldenCase:
    """Read and check one case folder."""
    try:
        raw = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
        # read_bytes, not read_text: universal newlines would turn a pasted CRLF into LF.
        text = (folder / "input.txt").read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CaseError(f"{folder.name}: cannot read the case ({exc}); fix the files.") from exc
    missing = _REQUIRED_KEYS - raw.keys()
    unknown = raw.keys() - _KNOWN_KEYS
    if missing or unknown:
        raise CaseError(
            f"{folder.name}: case.toml needs {sorted(_REQUIRED_KEYS)}"
            f" (missing {sorted(missing)}, unknown {sorted(unknown)})."
        )
    if raw["task"] not in TASKS:
        raise CaseError(f"{folder.name}: task {raw['task']!r} is not one of {sorted(TASKS)}.")
    content = raw.get("content")
    if content is not None and content not in CONTENT_KINDS:
        raise CaseError(
            f"{folder.name}: content {content!r} is not one of {sorted(CONTENT_KINDS)}."
        )
    return GoldenCase(
        id=folder.name,
        folder=folder,
        input=text,
        task=raw["task"],
        language=raw["language"],
        note=raw["note"],
        content=content,
        must_keep=tuple(raw.get("must_keep", ())),
    )


def load_cases(root: Path = CASES_DIR) -> list[GoldenCase]:
    """Every case under ``root``, in folder-name order."""
    return [load_case(d) for d in sorted(root.iterdir()) if d.is_dir()]


def load_suites() -> dict[str, list[GoldenCase]]:
    """Every blind-written case set, by name."""
    return {name: load_cases(GOLDEN_DIR.parent / name / "cases") for name in SUITES}
