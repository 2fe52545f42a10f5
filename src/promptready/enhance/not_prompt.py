"""Inputs that are not a request at all: small talk ("ok", "thanks!"), a bare number or phone
number, a lone URL or address, keyboard mashing, or a list of items with no ask ("milk, eggs").

Such text comes back unchanged: a template around "thanks!" helps nobody.
"""

from __future__ import annotations

import re

from promptready.enhance.blocks import Block
from promptready.enhance.lexicon import lexicon
from promptready.enhance.model import ContentKind

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_BARE_NUMBER = re.compile(r"[\d\s+().,:/#%$€£-]+")
_BARE_ADDRESS = re.compile(
    r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\S+\.(?:com|org|net|io)\S*"
)
# A run of four consonants (y counts as one) with no vowel: "asdfgh", "qwrtz", "jklsd".
_MASHED = re.compile(r"[bcdfghjklmnpqrstvwxz]{4,}")
_SMALL_TALK_WORDS = 6
_LONGEST = 400  # chars: a longer text is never only small talk, a number or a short list
_LIST_ITEM_WORDS = 4


def not_a_prompt(text: str, blocks: list[Block]) -> bool:
    """Whether ``text`` (normalized, split into ``blocks``) asks nothing of anyone."""
    stripped = text.strip()
    if len(stripped) > _LONGEST:
        return False
    words = _WORD.findall(stripped.lower())
    lex = lexicon()
    if words and len(words) <= _SMALL_TALK_WORDS and all(w in lex.small_talk for w in words):
        return "?" not in stripped  # "hello :)", "ok cool thx"; "ok?" may ask something
    if any(b.fenced or b.kind is not ContentKind.PROSE for b in blocks):
        return False  # code, logs or data: material waiting for a task ([TASK?])
    if not words:
        return True  # punctuation and emoji
    if _BARE_NUMBER.fullmatch(stripped) or _BARE_ADDRESS.fullmatch(stripped):
        return True
    if "?" in stripped:
        return False
    if len(words) <= 3 and all(_mashed(w) for w in words):
        return True
    return _list_without_ask(stripped, words)


def _mashed(word: str) -> bool:
    """A Latin-letter word no language spells: no vowel, or four consonants in a row."""
    return word.isascii() and (bool(_MASHED.search(word)) or not re.search(r"[aeiouy]", word))


def _list_without_ask(text: str, words: list[str]) -> bool:
    """Lines or comma-separated items of a few words each, with no verb or task cue in them."""
    lines = [x.strip(" \t-*•") for x in text.split("\n") if x.strip()]
    items = lines if len(lines) >= 3 else [x.strip() for x in text.split(",") if x.strip()]
    if len(items) < 3 or any(len(item.split()) > _LIST_ITEM_WORDS for item in items):
        return False
    lex = lexicon()
    if set(words) & lex.verbs or any(True for _ in lex.cues.hits(text.lower())):
        return False
    # A lead-in ending ":" points at what follows ("notes:"); only the first line may be a
    # list's own title ("Einkaufsliste:"), since no task cue or verb was found in any line.
    return not any(item.rstrip().endswith(":") for item in items[1:])
