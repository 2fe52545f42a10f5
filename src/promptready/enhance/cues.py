"""Finding task cues in text fast: whole phrases, word stems, compound tails and a few patterns.

Cues come from ``resources/enhance/lexicon.toml``: ``"write a poem"`` is a phrase on word
boundaries, ``"tradu*"`` a stem (traduis, traduzir, traduce), ``"*mail"`` a compound tail
(Beschwerdemail, herinneringsmail) and ``"re:..."`` a regular expression. Phrases share one
alternation and stems and tails one dictionary probe per word, so the cost is one pass over the
text whatever the lexicon's size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from promptready.enhance.model import TaskType

# Words and single punctuation marks: "tl;dr" is three tokens in the text and in the phrase alike.
_COMPOUND_STEM = 4
_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class Cue:
    """One phrase or pattern that points at a task."""

    task: TaskType
    strong: bool


def phrases_pattern(phrases: list[str]) -> re.Pattern[str]:
    """One regex matching any phrase on word boundaries (longest first)."""
    ordered = sorted({p.lower() for p in phrases}, key=len, reverse=True)
    alternatives = "|".join(re.escape(p) for p in ordered)
    # One lookbehind outside the alternation: inside each branch it defeats the regex engine's
    # first-character check and costs 30x.
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])")


class CueMatcher:
    """Every cue of the lexicon, compiled for one pass over a text."""

    def __init__(self, entries: list[tuple[str, Cue]]) -> None:
        phrases: dict[str, list[Cue]] = {}
        self._stems: dict[str, list[Cue]] = {}
        self._tails: dict[str, list[Cue]] = {}
        self._patterns: list[tuple[re.Pattern[str], Cue]] = []
        for source, cue in dict.fromkeys(entries):  # a phrase listed twice counts once
            if source.startswith("re:"):
                self._patterns.append((re.compile(source[3:]), cue))
            elif source.endswith("*"):
                self._stems.setdefault(source[:-1].lower(), []).append(cue)
            elif source.startswith("*"):
                self._tails.setdefault(source[1:].lower(), []).append(cue)
            else:
                phrases.setdefault(source.lower(), []).append(cue)
        self._phrases = {" ".join(_TOKEN.findall(p)): tuple(c) for p, c in phrases.items()}
        # First token -> longest phrase starting with it, in tokens: most tokens start none.
        self._starts: dict[str, int] = {}
        for key in self._phrases:
            first, size = key.split(" ", 1)[0], key.count(" ") + 1
            self._starts[first] = max(size, self._starts.get(first, 0))
        self._stem_sizes = sorted({len(s) for s in self._stems})
        self._tail_sizes = sorted({len(t) for t in self._tails})
        # Three-letter keys reject most words with one set lookup before any dictionary probe.
        self._stem_keys = {s[:3] for s in self._stems}
        self._tail_keys = {t[-3:] for t in self._tails}

    def hits(self, text: str) -> Iterator[tuple[int, Cue]]:
        """``(position, cue)`` for every cue found in lowercase ``text``."""
        tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(text)]
        words = [t for _, t in tokens]
        starts, phrases = self._starts, self._phrases
        stem_keys, tail_keys = self._stem_keys, self._tail_keys
        i = 0
        while i < len(tokens):
            at, word = tokens[i]
            if word[:3] in stem_keys or word[-3:] in tail_keys:
                yield from self._word_hits(word, at)
            longest = starts.get(word, 0)
            # The longest phrase at a position wins and is consumed ("error handling" is not
            # also "error"), as a regex alternation would do.
            for size in range(min(longest, len(tokens) - i), 0, -1):
                cues = phrases.get(" ".join(words[i : i + size]))
                if cues is not None:
                    for cue in cues:
                        yield at, cue
                    i += size - 1
                    break
            i += 1
        # Separately, not as one alternation: each keeps the engine's literal-prefix scan.
        for pattern, cue in self._patterns:
            for found in pattern.finditer(text):
                yield found.start(), cue

    def _word_hits(self, word: str, at: int) -> Iterator[tuple[int, Cue]]:
        for size in self._stem_sizes:
            if size > len(word):
                break
            for cue in self._stems.get(word[:size], ()):
                yield at, cue
        for size in self._tail_sizes:
            if size > len(word):
                break
            # A tail names a compound's head noun ("Beschwerdemail"), after a stem of four letters
            # at least: not "email" or "gmail". The bare word is a phrase cue of its own.
            if size + _COMPOUND_STEM <= len(word):
                for cue in self._tails.get(word[-size:], ()):
                    yield at, cue
