"""What a usage chart can plot from a ledger total: money, credits, enhancements or tokens.

Pure (no Qt): the window picks one, the charts draw its values with its labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from promptready.ledger.store import Total
from promptready.ui.wording import count, dollars


@dataclass(frozen=True)
class Measure:
    """One quantity of a total, how one amount of it reads, and what an empty chart says."""

    name: str  # shown in the picker
    value: Callable[[Total], Decimal]
    label: Callable[[Decimal], str]
    empty: str


def _tokens(amount: Decimal) -> str:
    number = int(amount)
    if number >= 1_000_000:
        return f"{number / 1_000_000:.1f}M tokens"
    if number >= 10_000:
        return f"{number / 1_000:.0f}k tokens"
    return count(number, "token")


MONEY = Measure("Money", lambda t: t.cost_usd, dollars, "No spend yet")
# Credits-mode rows are paid in credits, not dollars: their own measure, so they are not $0.00.
CREDITS = Measure(
    "Credits", lambda t: Decimal(t.credits), lambda a: count(int(a), "credit"), "No credits spent"
)
# Every row counts, offline ones too: the only useful chart for a user without a key.
ENHANCEMENTS = Measure(
    "Enhancements",
    lambda t: Decimal(t.calls),
    lambda a: count(int(a), "enhancement"),
    "No enhancements yet",
)
TOKENS = Measure(
    "Tokens", lambda t: Decimal(t.prompt_tokens + t.completion_tokens), _tokens, "No tokens yet"
)
MEASURES = (ENHANCEMENTS, TOKENS, MONEY, CREDITS)
