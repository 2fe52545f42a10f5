"""What enhancing a text will cost, before it is sent: tokens by tiktoken, USD by the rate card.

The prompt side is counted (the user's text plus the meta-prompt around it); the answer side is
a guess, as long as the text plus the structure the rewrite adds. Pure: no network, no disk
writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from promptready import tokens
from promptready.pricing import RateCard, cost_usd

# A rewritten prompt is typically the text plus headings, steps and a format line.
ANSWER_OVERHEAD_TOKENS = 80
MESSAGE_OVERHEAD_TOKENS = 40  # message framing and the JSON analysis hints


@dataclass(frozen=True)
class Estimate:
    """Tokens of the text alone, tokens of the whole call, and its USD cost when priced."""

    text_tokens: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal | None  # None: the model is not on the rate card
    estimated: bool  # the tokenizer only approximates this model's


@cache
def _system_tokens(model: str) -> int:
    from promptready.enhance.ai import system_prompt

    return tokens.count_text(system_prompt(), model).tokens


def count_only(text: str, model: str = "gpt-4o") -> Estimate:
    """Offline mode: the text's tokens and no cost."""
    count = tokens.count_text(text, model)
    return Estimate(count.tokens, 0, 0, Decimal(0), count.estimated)


def estimate_enhancement(text: str, provider: str, model: str, card: RateCard) -> Estimate:
    """The likely tokens and cost of one AI enhancement of ``text`` with ``provider/model``."""
    count = tokens.count_text(text, model)
    prompt = count.tokens + _system_tokens(model) + MESSAGE_OVERHEAD_TOKENS
    completion = count.tokens + ANSWER_OVERHEAD_TOKENS
    price = card.price(model, provider)
    cost = None if price is None else cost_usd(price, prompt, completion)
    return Estimate(count.tokens, prompt, completion, cost, True)
