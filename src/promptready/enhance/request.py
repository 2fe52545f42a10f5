"""Which part of the input is the user's ask and which is material to work on.

Code, logs, data and fenced blocks are always material. Pasted prose is material too when a
short ask frames it: a lead-in ending in ':' ("summarize this:") or pointing at what follows
("condense this into 3 bullets"), or a closing ask after it ("tl;dr pls"). An ask on the first
or last line of a pasted block, with no blank line between ("ok what did we decide"), is cut off
at the line break. Text is only cut, never rewritten.
"""

from __future__ import annotations

import re

from promptready.enhance.blocks import Block, classify
from promptready.enhance.lexicon import lexicon
from promptready.enhance.model import ContentKind

_ASK_WORDS = 60  # longest paragraph read as an ask next to pasted prose
_ASK_LINE_WORDS = 30  # longest line cut off a pasted block as the ask
_TERSE_WORDS = 12  # "action items only pls, with owners" above pasted notes
# Words by which an ask points at the material around it.
_POINTER = re.compile(
    r"\b(?:this|these|here|below|above|following|attached|pasting|pasted|dies\w*|hier|folgend\w*|ce|cette|ces|"
    r"ça|ci-dessous|suivant\w*|este|esta|estos|estas|esto|esse|essa|isso|seguinte|questo|questa|"
    r"seguente|deze|dit|hieronder|volgende)\b"
)
# Words that announce the user's own requirements (kept in the task, not fenced as data).
_REQUIREMENT = re.compile(
    r"\b(?:requirements?|constraints?|must|should|needs? to|make sure|rules|criteria|features|"
    r"include|it has to|anforderungen|muss|soll|exigences|doit|requisitos|debe|deve|requisiti|"
    r"eisen|moet)\b"
)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S")
_REQUIREMENT_WORDS = 20
# A comment line at the edge of pasted code ("# prints 2, should be 3") belongs to the code.
_COMMENT = re.compile(r"^\s*(?:#(?!!)|//|--|/\*|\*|;|%|<!--|rem\b)", re.IGNORECASE)
# Lines of pasted material: a chat or transcript line, a bullet, a table row.
_MATERIAL_LINE = re.compile(
    r"^\s*(?:\[[\w:. ]{3,20}\]\s*\S|\d{1,2}:\d{2}\s|[-*•]\s|\d+[.)]\s|[\w .'-]{1,30}:\s|\|)"
)


def request_and_material(blocks: list[Block]) -> tuple[list[Block], list[Block]]:
    """The user's request blocks and the material blocks, in input order."""
    blocks = _cut_edge_asks(blocks)
    prose = [i for i, b in enumerate(blocks) if b.kind is ContentKind.PROSE and not b.fenced]
    if not prose:
        return [], list(blocks)
    asks = set(prose)
    first, last = prose[0], prose[-1]
    total = sum(_words(blocks[i]) for i in prose)
    colon = next((i for i in prose if blocks[i].text.rstrip().endswith(":")), None)
    if colon is not None and _words(blocks[colon]) <= _ASK_WORDS:
        asks = {i for i in prose if i <= colon}
        # "here's our blurb:" <blurb> "brainstorm features we could add": a closing ask after
        # the material, not the material itself.
        if last >= colon + 2 and _closes(blocks[last]):
            asks.add(last)
    elif len(prose) > 1:
        head, tail = blocks[first], blocks[last]
        framing = _frames(head) and total - _words(head) >= 1.5 * _words(head)
        closing = _closes(tail) and total - _words(tail) >= 2 * _words(tail)
        if framing and closing:
            # Both could be the ask ("Subject: … still not here" / "need a reply to this").
            asks = {first} if _askness(head.text) >= _askness(tail.text) else {last}
        elif framing:
            asks = {first}
        elif closing:
            asks = {last}
    asks |= {i + 1 for i in asks if i + 1 < len(blocks) and _requirements(blocks[i], blocks[i + 1])}
    request = [b for i, b in enumerate(blocks) if i in asks]
    return request, _whole_messages(blocks, asks)


def _whole_messages(blocks: list[Block], asks: set[int]) -> list[Block]:
    """The material, with adjacent prose paragraphs joined: one pasted message is one fence."""
    runs: list[list[Block]] = []
    for i, block in enumerate(blocks):
        if i in asks:
            continue
        if runs and i - 1 not in asks and _loose_prose(block) and _loose_prose(blocks[i - 1]):
            runs[-1].append(block)
        else:
            runs.append([block])
    return [
        run[0] if len(run) == 1 else Block("\n\n".join(b.text for b in run), ContentKind.PROSE)
        for run in runs
    ]


def _loose_prose(block: Block) -> bool:
    return block.kind is ContentKind.PROSE and not block.fenced


def _requirements(ask: Block, bullets: Block) -> bool:
    """A bullet list right under an ask that announces requirements ("requirements:", "it
    must:") rather than pointing at pasted material: the user's own spec, kept in the task."""
    lines = [x for x in bullets.text.split("\n") if x.strip()]
    text = ask.text.lower()
    return (
        not ask.fenced
        and bullets.kind is ContentKind.PROSE
        and not bullets.fenced
        and text.rstrip().endswith(":")
        and bool(_REQUIREMENT.search(text))
        and not _POINTER.search(text.rsplit("\n", 1)[-1])
        and all(_BULLET.match(x) and len(x.split()) <= _REQUIREMENT_WORDS for x in lines)
    )


def _words(block: Block | str) -> int:
    """Size in words; for scripts written without spaces (Japanese, Chinese), about 6 characters
    count as one."""
    text = block.text if isinstance(block, Block) else block
    return max(len(text.split()), len(text) // 6)


def _frames(block: Block) -> bool:
    """A short paragraph that points at the material after it, or a terse ask ("tl;dr")."""
    text = block.text.lower()
    if _words(block) > _ASK_WORDS:
        return False
    terse = _words(block) <= _TERSE_WORDS and any(c.strong for _, c in lexicon().cues.hits(text))
    return terse or bool(_POINTER.search(text))


def _closes(block: Block | str) -> bool:
    """A short paragraph that asks something of what came before it."""
    text = block.text if isinstance(block, Block) else block
    return _words(text) <= _ASK_WORDS and _askness(text) > 0


def _askness(text: str) -> int:
    """How much a paragraph reads as an ask: a task cue, a leading verb, a pointer, a question."""
    low = text.lower()
    first = re.match(r"\W*(\w+)", low)
    return (
        2 * any(cue.strong for _, cue in lexicon().cues.hits(low))
        + (first is not None and first.group(1) in lexicon().verbs)
        + bool(_POINTER.search(low))
        + ("?" in low)
    )


def _cut_edge_asks(blocks: list[Block]) -> list[Block]:
    """Cut an ask off the first line of the first block or the last line of the last one when
    the rest of that block is pasted lines (chat, bullets, code, a table)."""
    if not blocks:
        return blocks
    out = list(blocks)
    last = out[-1]
    if not last.fenced and "\n" in last.text:
        rest, line = last.text.rsplit("\n", 1)
        # Prose above a line that points back at it ("make this like 3 lines") is pasted too.
        pointed = _words(rest) >= _ASK_WORDS and bool(_POINTER.search(line.lower()))
        comment = _COMMENT.match(line) and classify(rest) is ContentKind.CODE
        if _is_ask_line(line) and _closes(line) and (pointed or _pasted(rest)) and not comment:
            out[-1:] = [Block(rest, classify(rest)), Block(line, ContentKind.PROSE)]
    first = out[0]
    if not first.fenced and "\n" in first.text:
        line, rest = first.text.split("\n", 1)
        framing = _POINTER.search(line.lower()) or line.rstrip().endswith(("?", ":"))
        comment = _COMMENT.match(line) and classify(rest) is ContentKind.CODE
        if _is_ask_line(line) and framing and _pasted(rest) and not comment:
            out[:1] = [Block(line, ContentKind.PROSE), Block(rest, classify(rest))]
    return out


def _is_ask_line(line: str) -> bool:
    return _words(line) <= _ASK_LINE_WORDS and classify(line) is ContentKind.PROSE


def _pasted(text: str) -> bool:
    """Whether lines look pasted rather than written: mostly not prose, or mostly chat lines,
    bullets or table rows."""
    if classify(text) is not ContentKind.PROSE:
        return True
    lines = [line for line in text.split("\n") if line.strip()]
    return len(lines) >= 3 and sum(bool(_MATERIAL_LINE.match(x)) for x in lines) >= 0.6 * len(lines)
