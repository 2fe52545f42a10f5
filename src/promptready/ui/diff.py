"""Before/after as HTML: lines the enhancement added in green, lines it dropped struck through."""

from __future__ import annotations

import difflib
import html

ADDED = "background:#e3f5e1;color:#1d4d1a"
REMOVED = "background:#fbe4e4;color:#7a1f1f;text-decoration:line-through"


def diff_html(before: str, after: str) -> str:
    """An HTML block showing how ``after`` differs from ``before``, line by line."""
    old, new = before.splitlines(), after.splitlines()
    rows: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [_line(line, "") for line in new[j1:j2]]
            continue
        rows += [_line(line, REMOVED, "−") for line in old[i1:i2]]
        rows += [_line(line, ADDED, "+") for line in new[j1:j2]]
    return "<pre style='font-family:monospace;white-space:pre-wrap'>" + "".join(rows) + "</pre>"


def _line(text: str, style: str, mark: str = " ") -> str:
    body = html.escape(text) or "&nbsp;"
    return f"<div style='{style}'>{mark} {body}</div>"


def diff_counts(before: str, after: str) -> tuple[int, int]:
    """Lines added and lines removed."""
    added = removed = 0
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        added += line.startswith("+ ")
        removed += line.startswith("- ")
    return added, removed
