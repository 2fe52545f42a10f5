"""Normalize the input and split it into the request and the material pasted with it.

Blocks are cut from the text, never rewritten: every byte of the input (after line-ending
normalisation) lands in exactly one block, so code, URLs, quotes and numbers survive as written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from promptready.enhance.model import ContentKind
from promptready.errors import InputError

MAX_CHARS = 4 * 1024 * 1024

_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^(?P=fence)[ \t]*$", re.DOTALL | re.MULTILINE
)
_CODE_LINE = re.compile(
    "|".join(
        [
            r"^\s*(?:def |class |import |from \S+ import |return\b|elif |else:|try:|except\b)",
            r"^\s*(?:if|for|while) .*:\s*$",
            r"^\s*(?:function\b|const |let |var |public |private |static |#include|package )",
            r"^\s*(?:fn |impl |struct |func |SELECT\b|INSERT\b|UPDATE\b|CREATE TABLE|\$ |>>> )",
            r"^(?:FROM|RUN|COPY|ADD|WORKDIR|ENV|EXPOSE|CMD|ENTRYPOINT|ARG|USER|VOLUME|LABEL) \S",
            # Shell: a shebang, VAR=value, the words that close a block.
            r"^#!|^[A-Z_][A-Z0-9_]*=\S|^\s*(?:fi|done|esac|then|do)\s*$",
            # YAML: an indented or lowercase key, or a list item that is a mapping.
            r"^(?:\s+[\w.-]+|[a-z_][\w.-]*):(?:\s|$)|^\s*- [\w.-]+:(?:\s|$)",
            r"^\s*[}\])];?\s*$",
            r"[;{]\s*$",
            r"^(?: {4}|\t)\S",
            r"=>",
            r"^\s*[\w.]+\(.*\)\s*;?\s*$",
        ]
    )
)
_LOG_LINE = re.compile(
    "|".join(
        [
            r"Traceback \(most recent call last\)",
            r'^\s*File ".*", line \d+',
            r"^\s+at [\w$.<>]+ ?\(",
            r"\b(?:ERROR|WARN(?:ING)?|FATAL|CRITICAL|DEBUG|INFO|panic)\b",
            r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}",
            r"^\[\d{2}:\d{2}:\d{2}",
            r"^[\w.]*(?:Error|Exception)\b",
            r"Exception in thread",
            r"^npm ERR!",
            r"exit code \d+",
            r"Segmentation fault",
        ]
    ),
    re.MULTILINE,
)
_DIFF_LINE = re.compile(
    r"^(?:diff --git |@@ .* @@|--- a/|\+\+\+ b/|index [0-9a-f]+\.\.)", re.MULTILINE
)


_AMOUNT_LINE = re.compile(r"^\s*[^\d\n]{2,60}?[\s:=]\s*[~$€£]?\s*\d[\d,.]*\s*[%kKmM€$£]?\b")
# Where a sentence ends (kept text is split here, never rewritten).
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_TABLE_RULE = re.compile(r"^\s*(?:[-+=|: ]+|\(\d+ rows?\))\s*$")
_SYMBOL = re.compile(r"[(){}\[\]<>=;:$^*+?\\|/&!~.,'\"`#@%-]")


@dataclass(frozen=True)
class Block:
    """A piece of the input: the request (prose the user wrote) or material of some kind."""

    text: str
    kind: ContentKind
    fenced: bool = False  # already fenced by the user: kept with its own fence


def normalize(text: str) -> str:
    """Unix line endings and no surrounding blank space; unusable input is an InputError."""
    if len(text) > MAX_CHARS:
        raise InputError(
            f"The text is {len(text) // 1024} KiB; the most PromptReady enhances at once is "
            f"{MAX_CHARS // 1024 // 1024} MiB. Enhance a smaller part."
        )
    if "\x00" in text:
        raise InputError("This looks like binary data, not text; paste or pipe plain text.")
    sample = text[:65536]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\n\r\t")
    if sample and controls / len(sample) > 0.02:
        raise InputError("This looks like binary data, not text; paste or pipe plain text.")
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not cleaned:
        raise InputError("There is no text to enhance: type or paste what you want to ask.")
    return cleaned


def classify(paragraph: str) -> ContentKind:
    """The kind of one paragraph of unfenced text."""
    lines = paragraph.split("\n")
    stripped = paragraph.strip()
    if stripped[:1] in "{[" and stripped[-1:] in "}]":
        try:
            json.loads(stripped)
            return ContentKind.JSON
        except ValueError:
            pass
    if _DIFF_LINE.search(paragraph):
        return ContentKind.DIFF
    if len(_LOG_LINE.findall(paragraph)) >= max(1, len(lines) // 3):
        return ContentKind.LOGS
    if _is_table(lines) or _is_ledger(lines):
        return ContentKind.DATA
    code = sum(1 for line in lines if _CODE_LINE.search(line))
    words = len(stripped.split())
    mostly_code = code >= max(2, len(lines) // 2)
    one_code_line = len(lines) == 1 and words <= 12 and not re.search(r"[.?!]$", stripped)
    if code and (mostly_code or one_code_line):
        return ContentKind.CODE
    if words <= 3 * len(lines) and len(_SYMBOL.findall(stripped)) >= 0.25 * len(stripped):
        return ContentKind.CODE  # a regex, a formula, a one-line command: mostly symbols
    return ContentKind.PROSE


def _is_table(lines: list[str]) -> bool:
    """Rows with the same number of separators: CSV, TSV, or a psql/Markdown table (whose rule
    lines and "(2 rows)" footer are skipped)."""
    rows = [line for line in lines if line.strip() and not _TABLE_RULE.match(line)]
    if len(lines) < 3 or len(rows) < 2:
        return False
    for sep in (",", "\t", ";", "|"):
        counts = {row.count(sep) for row in rows}
        if len(counts) == 1 and min(counts) >= 1:
            return True
    return False


def _is_ledger(lines: list[str]) -> bool:
    """Labelled amounts, one a line ("rent 14,400"): a list of numbers to analyse."""
    rows = [line for line in lines if line.strip()]
    amounts = sum(bool(_AMOUNT_LINE.match(row)) for row in rows)
    return len(rows) >= 4 and amounts >= 0.7 * len(rows)


def _fence_kind(block: str) -> ContentKind:
    info = block.split("\n", 1)[0].lstrip("`~").strip().lower()
    if info in ("json", "jsonc"):
        return ContentKind.JSON
    if info in ("diff", "patch"):
        return ContentKind.DIFF
    if info in ("log", "logs", "text", "txt", "console", "output", "stacktrace", "traceback"):
        inner = block.split("\n", 1)[1] if "\n" in block else ""
        return ContentKind.LOGS if _LOG_LINE.search(inner) else ContentKind.PROSE
    if info in ("csv", "tsv"):
        return ContentKind.DATA
    return ContentKind.CODE


def split_blocks(text: str) -> list[Block]:
    """The text as consecutive blocks: fenced code kept whole, the rest cut at blank lines.

    Adjacent paragraphs of the same material kind are merged (one traceback, one file).
    """
    blocks: list[Block] = []
    position = 0
    for fence in _FENCE.finditer(text):
        blocks += _paragraphs(text[position : fence.start()])
        blocks.append(Block(fence.group(0), _fence_kind(fence.group(0)), fenced=True))
        position = fence.end()
    blocks += _paragraphs(text[position:])
    merged: list[Block] = []
    for block in blocks:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and not block.fenced
            and not previous.fenced
            and block.kind is previous.kind
            and block.kind is not ContentKind.PROSE
        ):
            merged[-1] = Block(f"{previous.text}\n\n{block.text}", block.kind)
        else:
            merged.append(block)
    return merged


def _paragraphs(chunk: str) -> list[Block]:
    parts = [p.strip("\n") for p in re.split(r"\n[ \t]*\n", chunk)]
    return [Block(p, classify(p)) for p in parts if p.strip()]


def content_kind(blocks: list[Block]) -> ContentKind:
    """One label for the whole input."""
    kinds = {b.kind for b in blocks}
    if len(kinds) == 1:
        return next(iter(kinds))
    return ContentKind.MIXED
