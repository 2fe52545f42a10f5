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
    return lexicon().phrasebook(language).headings


def render(sections: list[Section], fmt: OutputFormat, language: str) -> str:
    """The finished prompt."""
    if fmt is OutputFormat.XML:
        return "\n\n".join(f"<{s.key}>\n{s.body}\n</{s.key}>" for s in sections)
    names = headings_for(language)
    if fmt is OutputFormat.TEXT:
        return "\n\n".join(f"{names[s.key]}:\n{s.body}" for s in sections)
    return "\n\n".join(f"## {names[s.key]}\n\n{s.body}" for s in sections)


_MARKDOWN_HEADING = re.compile(r"(?:^|\n\n)## ([^\n]+)")


def is_own_output(text: str) -> bool:
    """Whether ``text`` is a prompt this enhancer rendered, in any language and layout: it opens
    with one of our role headings holding one of our role sentences, or (the light layout) with
    one of our task headings."""
    books = lexicon().phrasebooks.values()
    first_line, _, rest = text.partition("\n")
    roles = {role for book in books for role in book.roles.values()}
    role_headings = {book.headings["role"] for book in books}
    task_headings = {book.headings["task"] for book in books}
    if first_line in ("<role>", "<task>"):
        name, body = first_line[1:-1], rest.partition("\n")[0]
        return name == "task" or (body in roles and "\n\n" in rest)
    if first_line.startswith("## "):
        name, body = first_line[3:], rest.lstrip("\n").partition("\n")[0]
    elif first_line.endswith(":"):
        name, body = first_line[:-1], rest.partition("\n")[0]
    else:
        return False
    if name in task_headings and rest.strip():
        # The light and compact layouts open with the task: every other heading must be ours.
        names = set(_MARKDOWN_HEADING.findall(text)) if first_line.startswith("## ") else set()
        return any(names <= set(book.headings.values()) for book in books)
    return name in role_headings and body in roles and "\n\n" in rest


_UNFILLED = re.compile(r"^- [^\n]*\[[A-Z][A-Z0-9 _/-]*\?\][^\n]*$")


def strip_unfilled(text: str) -> str:
    """``text`` without the optional fill-ins left empty, and without their section once none
    is left: what the popup copies when the user filled nothing in."""
    openers = {"<fill_in>\n"}
    for book in lexicon().phrasebooks.values():
        openers |= {f"## {book.headings['fill_in']}\n", f"{book.headings['fill_in']}:\n"}
    start = max(text.rfind(f"\n\n{opener}") for opener in openers)
    if start < 0:
        return text
    head, section = text[:start], text[start + 2 :]
    lines = [x for x in section.split("\n") if not _UNFILLED.match(x)]
    kept = [x for x in lines[1:] if x.strip() and x != "</fill_in>"]
    return f"{head}\n\n" + "\n".join(lines) if kept else head
