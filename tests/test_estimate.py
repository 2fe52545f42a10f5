"""Cost before sending: tokens from tiktoken, USD from the rate card."""

from __future__ import annotations

from decimal import Decimal

from promptready.estimate import count_only, estimate_enhancement
from promptready.pricing import load_rate_card


def test_offline_counts_tokens_and_costs_nothing() -> None:
    estimate = count_only("hello world")
    assert estimate.text_tokens == 2 and estimate.cost_usd == Decimal(0)


def test_ai_estimate_prices_prompt_and_answer() -> None:
    estimate = estimate_enhancement("hello world", "openai", "gpt-4o-mini", load_rate_card())
    assert estimate.prompt_tokens > estimate.text_tokens  # the meta-prompt counts too
    assert estimate.cost_usd is not None and Decimal(0) < estimate.cost_usd < Decimal("0.01")


def test_an_unpriced_model_has_no_cost() -> None:
    estimate = estimate_enhancement("hi", "custom", "my-own-model", load_rate_card())
    assert estimate.cost_usd is None and estimate.estimated
