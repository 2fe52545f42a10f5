"""Lay the sections out as Markdown, plain text or XML tags, and recognise our own layout.

Section bodies that come from the user are inserted verbatim; material is fenced with a fence
longer than any backtick run inside it, so nothing pasted can close it early.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from promptready.enhance.blocks import Block
from promptready.enhance.lexicon import lexicon
from promptready.enhance.model import ContentKind, OutputFormat

_FENCE_INFO = {
    ContentKind.LOGS: "text",
    ContentKind.JSON: "json",
    ContentKind.DIFF: "diff",
    ContentKind.DATA: "csv",
    ContentKind.PROSE: "text",
    ContentKind.CODE: "",
    ContentKind.MIXED: "text",
}


@dataclass(frozen=True)
class Section:
    """One section: its key (``task``, ``input`` ...) and its body."""

    key: str
    body: str


def fence(block: Block) -> str:
    """The block fenced as material (a block the user fenced keeps its own fence)."""
    if block.fenced:
        return block.text
    longest = max((len(run) for run in re.findall(r"`+", block.text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{_FENCE_INFO[block.kind]}\n{block.text}\n{ticks}"


def headings_for(language: str) -> dict[str, str]:
    """Section headings in the input's language (English when we have none for it)."""
    all_headings = lexicon().headings
    return all_headings.get(language, all_headings["en"])


def render(sections: list[Section], fmt: OutputFormat, language: str) -> str:
    """The finished prompt."""
    if fmt is OutputFormat.XML:
        return "\n\n".join(f"<{s.key}>\n{s.body}\n</{s.key}>" for s in sections)
    names = headings_for(language)
    if fmt is OutputFormat.TEXT:
        return "\n\n".join(f"{names[s.key]}:\n{s.body}" for s in sections)
    return "\n\n".join(f"## {names[s.key]}\n\n{s.body}" for s in sections)


def is_own_output(text: str) -> bool:
    """Whether ``text`` is a prompt this enhancer rendered: its first section is one of our
    role headings holding one of our role sentences, in any of the three layouts."""
    first_line, _, rest = text.partition("\n")
    roles = {t.role for t in lexicon().templates.values()}
    role_headings = {h["role"] for h in lexicon().headings.values()}
    if first_line == "<role>":
        body = rest.partition("\n")[0]
    elif first_line.startswith("## ") and first_line[3:] in role_headings:
        body = rest.lstrip("\n").partition("\n")[0]
    elif first_line.endswith(":") and first_line[:-1] in role_headings:
        body = rest.partition("\n")[0]
    else:
        return False
    return body in roles and "\n\n" in rest
