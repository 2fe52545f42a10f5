"""What a request may cost before it runs (the hold) and what it cost after (the settle). Pure.

Credits come from the rate card's rules (``credits_for_chat``, ``credits_for_enhancement``). USD is
what the upstream says the call cost (OpenRouter's ``usage.cost``) when it says, else the card's
prices (``cost_usd``: cached prompt tokens at their price, a long prompt at its tier's). A hold is
priced at the dearest model the request could be served by (any cohort's, or the degrade model),
because the store picks the model inside the admission; without cached tokens, at full price.

Fallback when the upstream reports no usage (a stream without its usage chunk, a cut or cancelled
stream): the prompt counts as its local token estimate and the completion as the tokens of the text
streamed so far, at least one; the request is never charged zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from promptready.pricing import MICRO_USD, ModelPrice, RateCard, cost_usd
from promptready.providers.wire import Usage

DEFAULT_MAX_TOKENS = 1024  # sent upstream when the client sets no limit, so the hold bounds it
MAX_MAX_TOKENS = 32_768
ENHANCE_MAX_TOKENS = 2048
# Local token counts (holds, fallbacks) use one tokenizer whatever the model: they are estimates.
ESTIMATE_MODEL = "gpt-4o"


@dataclass(frozen=True)
class Estimate:
    """The hold for one request: its worst-case tokens, credits and upstream cost."""

    prompt_tokens: int
    max_completion_tokens: int
    credits: int
    cost_usd: Decimal


@dataclass(frozen=True)
class Charge:
    """The settled cost of one request."""

    prompt_tokens: int
    completion_tokens: int
    credits: int
    cost_usd: Decimal


class Pricer:
    """Prices requests with one rate card for the models this proxy may call."""

    def __init__(self, card: RateCard, models: Iterable[str]) -> None:
        self.card = card
        self._prices = {model: _price(card, model) for model in models}

    def price(self, model: str) -> ModelPrice:
        """The price of a configured model (configuration refuses models without one)."""
        found = self._prices.get(model)
        return found if found is not None else _price(self.card, model)

    def _worst_cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        return max(cost_usd(p, prompt_tokens, completion_tokens) for p in self._prices.values())

    def _worst_credits(self, total_tokens: int) -> int:
        return max(self.card.credits_for_chat(total_tokens, m) for m in self._prices)

    def chat_hold(self, prompt_tokens: int, max_completion_tokens: int) -> Estimate:
        """The hold for a chat request: prompt plus every completion token it may produce."""
        return Estimate(
            prompt_tokens,
            max_completion_tokens,
            self._worst_credits(prompt_tokens + max_completion_tokens),
            self._worst_cost(prompt_tokens, max_completion_tokens),
        )

    def enhance_hold(self, prompt_tokens: int) -> Estimate:
        """The hold for an enhancement: its flat credits, and the worst upstream cost."""
        return Estimate(
            prompt_tokens,
            ENHANCE_MAX_TOKENS,
            self.card.credits_for_enhancement(),
            self._worst_cost(prompt_tokens, ENHANCE_MAX_TOKENS),
        )

    def chat_charge(self, model: str, usage: Usage) -> Charge:
        """What a chat request that used ``usage`` costs: credits by its tokens."""
        return Charge(
            usage.prompt_tokens,
            usage.completion_tokens,
            self.card.credits_for_chat(usage.total_tokens, model),
            self.upstream_cost(model, usage),
        )

    def enhance_charge(self, model: str, usage: Usage) -> Charge:
        """What an enhancement costs: its flat credits, and the real upstream cost."""
        return Charge(
            usage.prompt_tokens,
            usage.completion_tokens,
            self.card.credits_for_enhancement(),
            self.upstream_cost(model, usage),
        )

    def upstream_cost(self, model: str, usage: Usage) -> Decimal:
        """USD the call cost us: the upstream's own figure, else ``model``'s price of the tokens
        (reasoning tokens are inside the completion tokens already)."""
        if usage.cost_usd is not None:
            return usage.cost_usd.quantize(MICRO_USD, rounding=ROUND_HALF_UP)
        return cost_usd(
            self.price(model), usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens
        )


def _price(card: RateCard, model: str) -> ModelPrice:
    price = card.price(model)
    if price is None:
        raise ValueError(f"the model {model!r} has no price")
    return price
