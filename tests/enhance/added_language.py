"""Which languages the lines an enhancer output adds are written in, from the phrasebooks:
shared by the property tests and ``bench/task_accuracy.py``."""

from __future__ import annotations

import re
from functools import cache

from promptready.enhance import Enhancement
from promptready.enhance.lexicon import lexicon


def added_lines(text: str, out: str) -> list[str]:
    """Lines of the output that are not lines of the input: what the enhancer wrote."""
    own = {line.strip() for line in text.split("\n")}
    return [x for x in out.split("\n") if x.strip() and x.strip() not in own and "```" not in x]


@cache
def _owners() -> dict[str, frozenset[str]]:
    """Each piece of added text (split at its {slots}) and the one language it belongs to."""
    owners: dict[str, set[str]] = {}
    for code, book in lexicon().phrasebooks.items():
        for string in book.added_strings():
            for piece in re.split(r"\{\w+\}", string):
                if len(piece.strip()) >= 4:
                    owners.setdefault(piece.strip(), set()).add(code)
    return {piece: frozenset(codes) for piece, codes in owners.items() if len(codes) == 1}


def languages_added(text: str, result: Enhancement) -> set[str]:
    """The languages of the output's added lines (more than one: the prompt mixes languages)."""
    found: set[str] = set()
    for line in added_lines(text, result.text):
        bare = re.sub(r"^(?:## |- |\d+\. |</?)", "", line).rstrip(":>").strip()
        for piece, codes in _owners().items():
            if piece in bare and re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", bare):
                found |= codes
    return found
