"""Which language a text is written in, from its frequent short words (the lexicon's lists).

Read from the head of the text only, so it costs the same for a line and for a megabyte.
"""

from __future__ import annotations

import re

from promptready.enhance.lexicon import lexicon

WINDOW = 1500  # chars read at the head of a text
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language among those the lexicon knows; English by default."""
    return language_of(text) or "en"


def language_of(text: str) -> str | None:
    """The text's language, or None when too few of its words are telling."""
    words = _WORD.findall(text[:WINDOW].lower())
    if not words:
        return None
    scores = {
        lang: sum(1 for w in words if w in vocab) for lang, vocab in lexicon().languages.items()
    }
    best = max(sorted(scores), key=lambda lang: (scores[lang], lang == "en"))
    return best if scores[best] >= 2 else None
