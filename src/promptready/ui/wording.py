"""How numbers and nouns read in the windows: money as "$0.42" or "< $0.01", "1 token" and
"2 tokens", "an email", and messages free of command lines a desktop user would not run."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
_VOWEL_SOUND = re.compile(r"^(?:[aeio]|u(?!ni|se|sa|ro)|hour|honest)", re.IGNORECASE)
# From the clause that tells the user to run a command ("; add it with `promptready keys set
# x` (or …)") to the end of its sentence. Bare `promptready` (what a desktop shortcut runs) stays.
_COMMAND_CLAUSE = re.compile(
    r"(?:[;:,]\s*)?[^;:,.`]*`(?:promptready\s+[a-z-]|pip\s|python\s)[^`]*`[^.]*", re.IGNORECASE
)


def dollars(amount: Decimal) -> str:
    """USD to the cent: ``$0.00`` for nothing, ``< $0.01`` for a fraction of a cent."""
    if amount == 0:
        return "$0.00"
    if 0 < amount < CENT:
        return "< $0.01"
    return f"${amount.quantize(CENT, rounding=ROUND_HALF_UP):,}"


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``1 token``, ``2 tokens``, ``0 changes``."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def with_article(phrase: str) -> str:
    """``an email``, ``a code``, ``an unusual``: the indefinite article that sounds right."""
    return f"{'an' if _VOWEL_SOUND.match(phrase) else 'a'} {phrase}"


def for_the_gui(message: str, where: str = "Settings") -> str:
    """``message`` with any "run this command" clause replaced by where in the app to do it."""
    cleaned = _COMMAND_CLAUSE.sub("", message).strip()
    if cleaned == message.strip():
        return message
    cleaned = re.sub(r"\s*\.\s*\.", ".", cleaned).strip(" ;,.:")  # a sentence removed whole
    if not cleaned:
        return f"Something needs fixing in {where}."
    return f"{cleaned[0].upper()}{cleaned[1:]}; you can fix this in {where}."
