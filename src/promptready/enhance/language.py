"""Which language a request is written in: by script first (kana, Han, Hangul, Cyrillic …),
then by its frequent short words and telling letters, with a margin between candidates.

Only the user's own words are read: code spans, URLs and paths are dropped first, and callers
pass the request, not pasted material. Read from the head of the text only, so it costs the
same for a line and for a megabyte.
"""

from __future__ import annotations

import re

from promptready.enhance.lexicon import lexicon

WINDOW = 1500  # chars read at the head of a text
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
# Words that are not prose: inline code, URLs, paths, identifiers with dots or underscores.
_NOT_PROSE = re.compile(r"`[^`\n]*`|\S+://\S+|\S*[/\\]\S+|\S+\.\S+\(|\w+_\w+|\w+\(\S*")
# Scripts, in the order they are checked: kana decides Japanese before Han decides Chinese.
_SCRIPTS = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
)
_LETTER = re.compile(r"[^\W\d_]")
# Letters only one or two of the Latin-script languages use: one of them is worth a word.
_TELLING = {
    "de": re.compile(r"[äöüß]"),
    "es": re.compile(r"[ñ¿¡]"),
    "pt": re.compile(r"[ãõ]|ção"),
    "fr": re.compile(r"[èêëîïûœ]|ç[aeiou]"),
    "it": re.compile(r"[ìò]\b|\bè\b"),
    # Polish imperatives end in -uj (podsumuj, przeanalizuj) and many start prze-.
    "pl": re.compile(r"[ąćęłńśźż]|\bprze|uj\b"),
    # "nedir" (what is) closes most short Turkish questions.
    "tr": re.compile(r"[ğışİ]|\bnedir\b"),
    "nl": re.compile(r"\bij\w|\w+ij\b"),
}
_MARGIN = 1  # the best language must beat the next by this many points


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language; English when nothing tells."""
    return language_of(text) or "en"


def language_of(text: str) -> str | None:
    """The text's language, or None when too little of it is telling."""
    head = _NOT_PROSE.sub(" ", text[:WINDOW])
    letters = len(_LETTER.findall(head))
    if not letters:
        return None
    for code, script in _SCRIPTS:
        # Space-less scripts: a few characters already outweigh many Latin letters.
        if len(script.findall(head)) * (3 if code in ("ja", "zh", "ko") else 1) >= 0.3 * letters:
            return code
    scores = _word_votes(head)
    low = head.lower()
    for lang, letters_of in _TELLING.items():
        scores[lang] = scores.get(lang, 0) + min(2, len(letters_of.findall(low)))
    ranked = sorted(scores, key=lambda lang: (-scores[lang], lang != "en", lang))
    best, second = ranked[0], ranked[1]
    if scores[best] < 2:
        return None
    if scores[best] - scores[second] < _MARGIN:
        # Too close to call: English where it is a candidate, else the first in order.
        return "en" if scores.get("en", 0) == scores[best] else best
    return best


def vocabulary_language(text: str) -> str | None:
    """The language whose frequent words the text uses most (at least two), English on a tie:
    the coarse vote task detection uses to tell pasted or quoted text in another language."""
    scores = _word_votes(text[:WINDOW])
    best = max(sorted(scores), key=lambda lang: (scores[lang], lang == "en"))
    return best if scores[best] >= 2 else None


def _word_votes(text: str) -> dict[str, int]:
    words = _WORD.findall(text.lower())
    return {
        lang: sum(1 for w in words if w in vocab) for lang, vocab in lexicon().languages.items()
    }
